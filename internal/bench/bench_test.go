package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"sluice/internal/partition"
)

// TestTinyCell runs one small cell against both targets end to end: it is
// the guard that the bench still measures something real, not a benchmark.
func TestTinyCell(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var progress strings.Builder
	rep, err := Run(ctx, Config{
		Fsync:    partition.FsyncAlways,
		DataDir:  t.TempDir(),
		Runs:     1,
		Cells:    []Cell{{Records: 2_000, Size: 100, Acks: AcksAll, Partitions: 1}},
		Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("runs failed: %v\n%s", err, progress.String())
	}
	if len(rep.Rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rep.Rows))
	}
	row := rep.Rows[0]
	for name, s := range map[string]Summary{"sluice": row.Sluice, "kfake": row.Kfake} {
		if s.Produced != 2_000 || s.Consumed != s.Produced {
			t.Errorf("%s: produced %d, consumed %d, want 2000 both", name, s.Produced, s.Consumed)
		}
		if s.ProduceRate <= 0 || s.ConsumeRate <= 0 || s.P99 < s.P50 {
			t.Errorf("%s: implausible summary %+v", name, s)
		}
	}
	var md strings.Builder
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| 100B/acks=all/p1 | 2,000 |") {
		t.Errorf("table lacks the cell row:\n%s", md.String())
	}
}

func TestPercentileAndMedian(t *testing.T) {
	lat := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if got := percentile(lat, 0.5); got != 5 {
		t.Errorf("p50 = %d, want 5", got)
	}
	if got := percentile(lat, 0.99); got != 10 {
		t.Errorf("p99 = %d, want 10", got)
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %v, want 2", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median = %v, want 2.5", got)
	}
}

func TestCellNamesAndScale(t *testing.T) {
	cfg := Config{Scale: 0.05, Only: "1KiB/acks=all"}
	cfg.setDefaults()
	cells := cfg.selected()
	if len(cells) != 4 {
		t.Fatalf("--only 1KiB/acks=all picked %d cells, want 4", len(cells))
	}
	if got := cfg.records(cells[0]); got != 5_000 {
		t.Errorf("scaled records = %d, want 5000", got)
	}
	if got := fmtCount(1234567); got != "1,234,567" {
		t.Errorf("fmtCount = %q", got)
	}
}

// TestTinySessions runs the fetch sessions bench on 100 partitions, once,
// briefly: both modes consume what was preloaded, follow the producer, and
// the sessions row carries its ratios.
func TestTinySessions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var progress strings.Builder
	rep, err := RunSessions(ctx, Config{Fsync: partition.FsyncAlways, DataDir: t.TempDir(), Runs: 1, Scale: 0.01, Only: "p100/", Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("runs failed: %v\n%s", err, progress.String())
	}
	if len(rep.Rows) != 2 || !rep.Rows[0].Sessions || rep.Rows[1].Sessions {
		t.Fatalf("rows %+v, want p100 with sessions then without", rep.Rows)
	}
	for _, row := range rep.Rows {
		if row.Runs != 1 || row.CatchUp <= 0 || row.TailRecords == 0 || row.Fetches <= 0 || row.FetchBytes <= 0 || row.P99 < row.P50 {
			t.Errorf("%s: implausible %+v", row.Name(), row)
		}
	}
	if s := rep.Rows[0]; s.CatchUpRatio <= 0 || s.BytesRatio <= 0 {
		t.Errorf("sessions row without ratios: %+v", s)
	}
	var md strings.Builder
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| 100 | on | ") || !strings.Contains(md.String(), "| 100 | off | ") {
		t.Errorf("table lacks the rows:\n%s", md.String())
	}
}
