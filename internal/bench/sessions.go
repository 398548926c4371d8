package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// The fetch sessions bench compares a franz-go consumer with fetch
// sessions (KIP-227, its default) and without (kgo.DisableFetchSessions:
// every fetch names every partition and is answered for every partition),
// on 100 and 1,000 partitions, on one in-process Sluice, in the same run.
// Each run of a cell uses a fresh topic:
//
//  1. preload: records spread evenly over the partitions;
//  2. a producer starts writing at a steady rate, spread over every
//     partition, and goes on until the run ends (consumers follow a topic
//     that is being written, which is where sessions matter);
//  3. catch-up: a new consumer reads from the start until it has as many
//     records as were preloaded (records per second);
//  4. tail: for a fixed window it follows the producer; measured are the
//     latency from produce to poll of the records produced in the window,
//     the fetches per second, the bytes of fetch requests and responses
//     per second, and the CPU the whole process used (client, producer
//     and broker share it) per second.
//
// Runs alternate the cells so that drift hits all alike; the report gives
// medians and the ratios of sessions to no sessions.

// sessionsPartitions are the topic sizes compared.
var sessionsPartitions = []int32{100, 1000}

const (
	sessionsPreload  = 200_000 // records before --scale
	sessionsTailRate = 2_000   // records per second while consuming
	sessionsWindow   = 10 * time.Second
	sessionsSize     = 100
)

// SessionsReport is the result of RunSessions.
type SessionsReport struct {
	Info     string
	Preload  int // records per run before consuming
	TailRate int // records per second written during the run
	Window   time.Duration
	Rows     []SessionsRow
}

// SessionsRow is one cell's medians; the ratios (sessions over none, same
// partitions) are set on the rows with sessions.
type SessionsRow struct {
	Partitions int32
	Sessions   bool
	Runs       int // successful runs behind the medians
	sessionsRun
	CatchUpRatio, BytesRatio, CPURatio float64
	Errs                               []error
}

// Name is what --only matches against, e.g. "p1000/sessions".
func (r SessionsRow) Name() string {
	mode := "no-sessions"
	if r.Sessions {
		mode = "sessions"
	}
	return fmt.Sprintf("p%d/%s", r.Partitions, mode)
}

// sessionsRun is one run's measurements (or their medians).
type sessionsRun struct {
	CatchUp     float64 // records per second
	P50, P99    time.Duration
	Fetches     float64 // per second, in the tail window
	FetchBytes  float64 // requests and responses, per second
	CPU         float64 // CPU seconds per second (cores busy)
	TailRecords int
}

// RunSessions runs cfg.Runs rounds of every cell that passes --only.
func RunSessions(ctx context.Context, cfg Config) (*SessionsReport, error) {
	cfg.setDefaults()
	rows := sessionsRows(cfg.Only)
	if len(rows) == 0 {
		return nil, fmt.Errorf("no fetch sessions cell matches --only %q", cfg.Only)
	}
	b, dir, err := startBroker(cfg, nil)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	defer b.Close()
	w := sessionsWindow
	if cfg.Scale < 1 {
		w = max(time.Second, time.Duration(float64(w)*cfg.Scale))
	}
	rep := &SessionsReport{Info: newReport(cfg).Info, Preload: max(1000, int(sessionsPreload*cfg.Scale)), TailRate: sessionsTailRate, Window: w}
	payload := make([]byte, sessionsSize)
	rand.Read(payload)
	runs := make([][]sessionsRun, len(rows))
	for run := 1; run <= cfg.Runs; run++ {
		for i := range rows {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r, err := sessionsOnce(ctx, b.Addr(), rows[i].Partitions, rows[i].Sessions, rep, payload, run)
			if err != nil {
				rows[i].Errs = append(rows[i].Errs, fmt.Errorf("%s run %d: %w", rows[i].Name(), run, err))
				fmt.Fprintf(cfg.Progress, "%-18s run %d: ERROR %v\n", rows[i].Name(), run, err)
				continue
			}
			fmt.Fprintf(cfg.Progress, "%-18s run %d: catch-up %s rec/s, tail p50 %s p99 %s, %.0f fetches/s, %s KB/s of fetches, %.2f cores\n",
				rows[i].Name(), run, fmtRate(r.CatchUp), fmtDur(r.P50), fmtDur(r.P99), r.Fetches, fmtRate(r.FetchBytes/1000), r.CPU)
			runs[i] = append(runs[i], r)
		}
	}
	for i := range rows {
		rows[i].Runs, rows[i].sessionsRun = len(runs[i]), medianRun(runs[i])
	}
	setRatios(rows)
	rep.Rows = rows
	rep.Info += ", at end " + loadAvg()
	return rep, nil
}

// sessionsRows is every cell that passes --only, each partition count with
// sessions first.
func sessionsRows(only string) []SessionsRow {
	var rows []SessionsRow
	for _, p := range sessionsPartitions {
		for _, s := range []bool{true, false} {
			if r := (SessionsRow{Partitions: p, Sessions: s}); strings.Contains(r.Name(), only) {
				rows = append(rows, r)
			}
		}
	}
	return rows
}

func medianRun(runs []sessionsRun) sessionsRun {
	pick := func(f func(sessionsRun) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	return sessionsRun{
		CatchUp:     pick(func(r sessionsRun) float64 { return r.CatchUp }),
		P50:         time.Duration(pick(func(r sessionsRun) float64 { return float64(r.P50) })),
		P99:         time.Duration(pick(func(r sessionsRun) float64 { return float64(r.P99) })),
		Fetches:     pick(func(r sessionsRun) float64 { return r.Fetches }),
		FetchBytes:  pick(func(r sessionsRun) float64 { return r.FetchBytes }),
		CPU:         pick(func(r sessionsRun) float64 { return r.CPU }),
		TailRecords: int(pick(func(r sessionsRun) float64 { return float64(r.TailRecords) })),
	}
}

// setRatios puts on each sessions row its ratios to the row without
// sessions of the same partition count.
func setRatios(rows []SessionsRow) {
	for i := range rows {
		for _, base := range rows {
			if !rows[i].Sessions || base.Sessions || base.Partitions != rows[i].Partitions {
				continue
			}
			rows[i].CatchUpRatio = safeRatio(rows[i].CatchUp, base.CatchUp)
			rows[i].BytesRatio = safeRatio(rows[i].FetchBytes, base.FetchBytes)
			rows[i].CPURatio = safeRatio(rows[i].CPU, base.CPU)
		}
	}
}

func safeRatio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// Err joins every failed run's error.
func (r *SessionsReport) Err() error {
	var all []error
	for _, row := range r.Rows {
		all = append(all, row.Errs...)
	}
	return errors.Join(all...)
}

// WriteMarkdown writes the info line and the table.
func (r *SessionsReport) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s records of %d B preloaded per run; then a producer writes %s rec/s spread over every partition; the tail window is %s; medians; ratios are sessions / no sessions\n\n",
		r.Info, fmtCount(r.Preload), sessionsSize, fmtCount(r.TailRate), r.Window)
	b.WriteString("| partitions | fetch sessions | catch-up rec/s | ratio | tail p50 | tail p99 | fetches/s | fetch KB/s (requests + responses) | ratio | CPU cores | ratio |\n")
	b.WriteString("|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range r.Rows {
		if row.Runs == 0 {
			fmt.Fprintf(&b, "| %d | %v | ERR | | | | | | | | |\n", row.Partitions, onOff(row.Sessions))
			continue
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %.0f | %s | %s | %.2f | %s |\n", row.Partitions, onOff(row.Sessions),
			fmtRate(row.CatchUp), fmtRatio(row.CatchUpRatio), fmtDur(row.P50), fmtDur(row.P99), row.Fetches,
			fmtRate(row.FetchBytes/1000), fmtRatio(row.BytesRatio), row.CPU, fmtRatio(row.CPURatio))
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(&b, "\nerrors:\n\n```\n%v\n```\n", err)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func fmtRatio(v float64) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", v)
}
