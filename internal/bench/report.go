package bench

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Row is one cell's result on every target.
type Row struct {
	Cell    Cell
	Records int    // after scaling, per run
	Kinds   []Kind // the targets, Sluice first
	Results map[Kind]Summary
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
		for _, k := range row.Kinds {
			all = append(all, row.Results[k].Errs...)
		}
	}
	return errors.Join(all...)
}

func newReport(cfg Config) *Report {
	sl := "data dir under " + cfg.DataDir
	if cfg.Journal {
		sl += ", fsync.journal=true"
	}
	if cfg.Brokers != "" {
		sl = "external " + cfg.Brokers + " (its own fsync setting)"
	}
	brokers, consumer := "brokers in child processes", "a consumer reading while the producer writes"
	if cfg.InProcess {
		brokers = "brokers in the bench's process"
	}
	if cfg.ConsumeAfter {
		consumer = "consume after produce"
	}
	return &Report{Info: fmt.Sprintf(
		"%s %s/%s, GOMAXPROCS=%d, NumCPU=%d, %s, fsync=%s, sluice %s, %s, %s, runs=%d, scale=%g, max-buffered=%d, load at start %s",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(),
		time.Now().UTC().Format(time.RFC3339), cfg.Fsync, sl, brokers, consumer, cfg.Runs, cfg.Scale, cfg.MaxBuffered, loadAvg())}
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

// WriteMarkdown writes the info line, the tables and any errors.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.Info)
	if len(r.Rows) > 0 {
		kinds := r.Rows[0].Kinds
		r.produceTable(&b, kinds)
		r.requestTable(&b, kinds)
		r.cpuTable(&b, kinds)
		r.aloneTable(&b, kinds)
		r.scalingTable(&b, kinds)
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(&b, "\nErrors:\n\n```\n%v\n```\n", err)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tableHead writes a table's title and head: the first columns, a column
// per target, with ratios a column "/ peer" per peer, then the extras.
func tableHead(b *strings.Builder, title, first string, kinds []Kind, ratios bool, extra ...string) {
	fmt.Fprintf(b, "\n%s:\n\n%s", title, first)
	cols := strings.Count(first, "|") - 1 + len(kinds) + len(extra)
	for _, k := range kinds {
		fmt.Fprintf(b, " %s |", k.Label())
	}
	if ratios {
		for _, k := range kinds[1:] {
			fmt.Fprintf(b, " / %s |", k.Label())
		}
		cols += len(kinds) - 1
	}
	for _, e := range extra {
		fmt.Fprintf(b, " %s |", e)
	}
	b.WriteString("\n|---|" + strings.Repeat("--:|", cols-1) + "\n")
}

// produceTable: produce rec/s of every target and Sluice's ratio to each
// peer, with Sluice's latencies and its consumer's pace.
func (r *Report) produceTable(b *strings.Builder, kinds []Kind) {
	tableHead(b, "Produce (records/s; the consumer's pace and lag are Sluice's)", "| cell | records |", kinds, true,
		"Sluice p50", "Sluice p99", "consumer rec/s", "consumer lag")
	for _, row := range r.Rows {
		s := row.Results[KindSluice]
		fmt.Fprintf(b, "| %s | %s |", row.Cell.Name(), fmtCount(row.Records))
		for _, k := range kinds {
			fmt.Fprintf(b, " %s |", cellRate(row.Results[k], row.Results[k].ProduceRate))
		}
		for _, k := range kinds[1:] {
			fmt.Fprintf(b, " %s |", ratio(s, row.Results[k], s.ProduceRate, row.Results[k].ProduceRate))
		}
		fmt.Fprintf(b, " %s | %s | %s | %s |\n", cellDur(s, s.P50), cellDur(s, s.P99), cellRate(s, s.ConsumeRate), cellDur(s, s.Lag))
	}
}

// requestTable: each broker's produce requests as the client saw them,
// records per request and the median time from a request written to its
// response read. kgo keeps one produce request in flight per broker, so
// a cell's rate is about records per request over (answer time + the
// client's own time between requests).
func (r *Report) requestTable(b *strings.Builder, kinds []Kind) {
	var lines []string
	for _, row := range r.Rows {
		line := fmt.Sprintf("| %s |", row.Cell.Name())
		seen := false
		for _, k := range kinds {
			s := row.Results[k]
			if s.RecordsPerRequest == 0 {
				line += " |"
				continue
			}
			seen = true
			line += fmt.Sprintf(" %s, %.2f ms |", fmtCount(int(math.Round(s.RecordsPerRequest))), float64(s.AnswerP50.Microseconds())/1000)
		}
		if seen {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return
	}
	tableHead(b, "Produce requests (records per request, and the median time from a request written to its answer read, as the client saw them)", "| cell |", kinds, false)
	b.WriteString(strings.Join(lines, "\n") + "\n")
}

// cpuTable: each broker's CPU time per record produced and consumed.
func (r *Report) cpuTable(b *strings.Builder, kinds []Kind) {
	tableHead(b, "Broker CPU per record produced and consumed (µs)", "| cell |", kinds, false)
	for _, row := range r.Rows {
		fmt.Fprintf(b, "| %s |", row.Cell.Name())
		for _, k := range kinds {
			fmt.Fprintf(b, " %s |", fmtCPU(row.Results[k].CPUPerRecord))
		}
		b.WriteString("\n")
	}
}

// aloneTable: a consumer reading a whole topic with nothing else running.
func (r *Report) aloneTable(b *strings.Builder, kinds []Kind) {
	tableHead(b, "Consume alone (records/s)", "| cell |", kinds, true)
	for _, row := range r.Rows {
		s := row.Results[KindSluice]
		fmt.Fprintf(b, "| %s |", row.Cell.Name())
		for _, k := range kinds {
			fmt.Fprintf(b, " %s |", cellRate(row.Results[k], row.Results[k].AloneRate))
		}
		for _, k := range kinds[1:] {
			fmt.Fprintf(b, " %s |", ratio(s, row.Results[k], s.AloneRate, row.Results[k].AloneRate))
		}
		b.WriteString("\n")
	}
}

// scalingTable: each target's produce rate on n partitions over its rate
// on one partition of the same record size and acks, where both ran.
func (r *Report) scalingTable(b *strings.Builder, kinds []Kind) {
	var lines []string
	for _, row := range r.Rows {
		base := r.onePartition(row.Cell)
		if base == nil || row.Cell.Partitions == 1 {
			continue
		}
		line := fmt.Sprintf("| %s over p1 |", row.Cell.Name())
		for _, k := range kinds {
			s, one := row.Results[k], base.Results[k]
			line += " " + strings.TrimSuffix(ratio(s, one, s.ProduceRate, one.ProduceRate), "×") + " |"
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return
	}
	tableHead(b, "Partitions (produce rate over the same cell's on 1 partition)", "| cell |", kinds, false)
	b.WriteString(strings.Join(lines, "\n") + "\n")
}

// onePartition is the row of c's shape on one partition, if it ran.
func (r *Report) onePartition(c Cell) *Row {
	c.Partitions = 1
	for i := range r.Rows {
		if r.Rows[i].Cell == c {
			return &r.Rows[i]
		}
	}
	return nil
}

// The cell helpers print "ERR" when no run of a target succeeded, so a
// broken target can never pass for a slow one.
func cellRate(s Summary, v float64) string {
	if s.Runs == 0 {
		return "ERR"
	}
	return fmtRate(v)
}

func cellDur(s Summary, d time.Duration) string {
	if s.Runs == 0 {
		return "ERR"
	}
	return fmtDur(d)
}

func ratio(s, k Summary, sv, kv float64) string {
	if s.Runs == 0 || k.Runs == 0 || kv == 0 || sv == 0 {
		return "n/a"
	}
	return strconv.FormatFloat(sv/kv, 'f', 2, 64) + "×"
}

func fmtRate(v float64) string { return fmtCount(int(v + 0.5)) }

// fmtDur prints milliseconds, the unit produce latencies live in here.
func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// fmtCPU prints microseconds per record; n/a when not measured.
func fmtCPU(d time.Duration) string {
	if d <= 0 {
		return "n/a"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 2, 64)
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
