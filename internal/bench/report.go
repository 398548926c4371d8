package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Row is one cell's result on both targets.
type Row struct {
	Cell    Cell
	Records int // after scaling, per run
	Sluice  Summary
	Kfake   Summary
}

// Report is a whole bench invocation.
type Report struct {
	Info string // machine and settings, one line
	Rows []Row
}

// Err joins every failed run's error; nil when all runs passed. The caller
// turns it into the exit code.
func (r *Report) Err() error {
	var all []error
	for _, row := range r.Rows {
		all = append(all, row.Sluice.Errs...)
		all = append(all, row.Kfake.Errs...)
	}
	return errors.Join(all...)
}

func newReport(cfg Config) *Report {
	sl := "in-process, data dir under " + cfg.DataDir
	if cfg.Brokers != "" {
		sl = "external " + cfg.Brokers + " (its own fsync setting)"
	}
	return &Report{Info: fmt.Sprintf(
		"%s %s/%s, GOMAXPROCS=%d, NumCPU=%d, %s, fsync=%s, sluice %s, runs=%d, scale=%g, max-buffered=%d, load at start %s",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(),
		time.Now().UTC().Format(time.RFC3339), cfg.Fsync, sl, cfg.Runs, cfg.Scale, cfg.MaxBuffered, loadAvg())}
}

// loadAvg is the 1/5/15-minute load average, printed because a busy machine
// (builds, other benches) shows up as noise in every column; "n/a" off Linux.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], "/")
}

// finish records the load at the end, next to the one at the start.
func (r *Report) finish() { r.Info += ", at end " + loadAvg() }

// WriteMarkdown writes the info line, the table and any errors.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", r.Info)
	b.WriteString("| workload | records | Sluice rec/s | Sluice MB/s | Sluice p50 | Sluice p99 | kfake rec/s | kfake MB/s | kfake p50 | kfake p99 | produce Sluice/kfake | Sluice consume rec/s | kfake consume rec/s | consume Sluice/kfake |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range r.Rows {
		writeRow(&b, row)
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(&b, "\nErrors:\n\n```\n%v\n```\n", err)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeRow(b *strings.Builder, row Row) {
	s, k := row.Sluice, row.Kfake
	fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
		row.Cell.Name(), fmtCount(row.Records),
		cellRate(s, s.ProduceRate), cellMB(s), cellDur(s, s.P50), cellDur(s, s.P99),
		cellRate(k, k.ProduceRate), cellMB(k), cellDur(k, k.P50), cellDur(k, k.P99),
		ratio(s, k, s.ProduceRate, k.ProduceRate),
		cellRate(s, s.ConsumeRate), cellRate(k, k.ConsumeRate),
		ratio(s, k, s.ConsumeRate, k.ConsumeRate))
}

// The cell helpers print "ERR" when no run of a target succeeded, so a
// broken target can never pass for a slow one.
func cellRate(s Summary, v float64) string {
	if s.Runs == 0 {
		return "ERR"
	}
	return fmtRate(v)
}

func cellMB(s Summary) string {
	if s.Runs == 0 {
		return "ERR"
	}
	return strconv.FormatFloat(s.MBps, 'f', 1, 64)
}

func cellDur(s Summary, d time.Duration) string {
	if s.Runs == 0 {
		return "ERR"
	}
	return fmtDur(d)
}

func ratio(s, k Summary, sv, kv float64) string {
	if s.Runs == 0 || k.Runs == 0 || kv == 0 {
		return "n/a"
	}
	return strconv.FormatFloat(sv/kv, 'f', 2, 64) + "×"
}

func fmtRate(v float64) string { return fmtCount(int(v + 0.5)) }

// fmtDur prints milliseconds, the unit produce latencies live in here.
func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// fmtCount groups digits by thousands: 1234567 -> "1,234,567".
func fmtCount(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
