package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"sluice/internal/brokertest"
	"sluice/internal/partition"
)

// TestTinyCell runs small cells against every kind of broker, in the
// bench's process, end to end: it is the guard that the bench still
// measures something real, not a benchmark.
func TestTinyCell(t *testing.T) {
	rep := runTiny(t, Config{
		InProcess: true,
		Cells:     []Cell{{Records: 2_000, Size: 100, Acks: AcksAll, Partitions: 1}, {Records: 2_000, Size: 100, Acks: AcksAll, Partitions: 6}},
	})
	if len(rep.Rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rep.Rows))
	}
	for _, k := range Kinds {
		s := rep.Rows[0].Results[k]
		if s.Produced != 2_000 || s.Consumed != s.Produced {
			t.Errorf("%s: produced %d, consumed %d, want 2000 both", k, s.Produced, s.Consumed)
		}
		if s.ProduceRate <= 0 || s.ConsumeRate <= 0 || s.AloneRate <= 0 || s.P99 < s.P50 {
			t.Errorf("%s: implausible summary %+v", k, s)
		}
	}
	var md strings.Builder
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 100B/acks=all/p1 | 2,000 |", "| 100B/acks=all/p6 over p1 |", "kfake (fsync)"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, md.String())
		}
	}
}

// runTiny runs the matrix once with fsync=always in a temp dir and fails
// the test if any run failed.
func runTiny(t *testing.T, cfg Config) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var progress strings.Builder
	cfg.Fsync, cfg.DataDir, cfg.Runs, cfg.Progress = partition.FsyncAlways, t.TempDir(), 1, &progress
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("runs failed: %v\n%s", err, progress.String())
	}
	return rep
}

// TestChildBrokers runs a cell with the brokers in child processes of
// the sluice binary, which is what gives each its CPU time per record.
func TestChildBrokers(t *testing.T) {
	rep := runTiny(t, Config{
		Binary: brokertest.Binary(t),
		Kinds:  []Kind{KindSluice, KindNull},
		Cells:  []Cell{{Records: 5_000, Size: 100, Acks: AcksAll, Partitions: 2}},
	})
	for _, k := range []Kind{KindSluice, KindNull} {
		if s := rep.Rows[0].Results[k]; s.CPUPerRecord <= 0 || s.Consumed != 5_000 {
			t.Errorf("%s: CPU per record %v, consumed %d; want measured, 5000", k, s.CPUPerRecord, s.Consumed)
		}
	}
}

// TestTinyLatency runs the fixed-rate mode briefly against Sluice and the
// null broker and checks that the report states the target.
func TestTinyLatency(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var progress strings.Builder
	rep, err := RunLatency(ctx, Config{
		Fsync: partition.FsyncAlways, DataDir: t.TempDir(), Runs: 1, InProcess: true,
		Kinds:    []Kind{KindSluice, KindNull},
		Latency:  LatencyConfig{Rate: 500, Duration: 400 * time.Millisecond},
		Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("runs failed: %v\n%s", err, progress.String())
	}
	for _, k := range rep.Kinds {
		if s := rep.Results[k]; s.Runs != 1 || s.P50 <= 0 || s.P999 < s.P99 || s.P99 < s.P50 {
			t.Errorf("%s: implausible %+v", k, s)
		}
		if s := rep.Results[k]; s.AnswerP99 <= 0 || s.AnswerP999 < s.AnswerP99 {
			t.Errorf("%s: requests' answer times not measured: p99 %s p99.9 %s", k, s.AnswerP99, s.AnswerP999)
		}
	}
	if rep.Disk.P50 <= 0 {
		t.Errorf("disk probe not measured: %+v", rep.Disk)
	}
	var md strings.Builder
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "requests answered p99") {
		t.Errorf("report lacks the answer-time columns:\n%s", md.String())
	}
	if !strings.Contains(md.String(), "Target: Sluice p99") {
		t.Errorf("report lacks the target line:\n%s", md.String())
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
	if len(cells) != 3 {
		t.Fatalf("--only 1KiB/acks=all picked %d cells, want 3", len(cells))
	}
	cfg.Only = "100B/acks=all/p1"
	if cells := cfg.selected(); len(cells) != 1 || cells[0].Partitions != 1 {
		t.Errorf("--only 100B/acks=all/p1 picked %v, want the one cell", cells)
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

// TestTinyRestart runs the restart mode on a few partitions: both
// restarts serve again with every acknowledged record.
func TestTinyRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var progress strings.Builder
	rep, err := RunRestart(ctx, Config{
		Fsync: partition.FsyncAlways, DataDir: t.TempDir(), Runs: 1, Binary: brokertest.Binary(t),
		Restart:  RestartConfig{Partitions: 10, Records: 5},
		Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("runs failed: %v\n%s", err, progress.String())
	}
	for name, s := range map[string]RestartSummary{"clean": rep.Clean, "kill -9": rep.Unclean} {
		if s.Runs != 1 || s.Ready <= 0 || s.Startup <= 0 || s.Answered < s.Ready {
			t.Errorf("%s: implausible %+v", name, s)
		}
	}
	var md strings.Builder
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| after kill -9 while writing |") {
		t.Errorf("report lacks the kill -9 row:\n%s", md.String())
	}
}
