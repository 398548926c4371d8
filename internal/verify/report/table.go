// Package report prints a check result for people (a terminal table) and
// for programs (JSON). It decides nothing: what is found and what it
// means for a guarantee come from package check.
package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"sluice/internal/verify/check"
)

// DefaultMaxPerAnomaly is how many findings of each anomaly the table
// shows when the caller does not say: enough to see the pattern, few
// enough to read. The JSON report has every finding.
const DefaultMaxPerAnomaly = 5

// Table writes the result as text: what the history holds, the faults
// injected, which
// anomalies were found and what each means for each guarantee, the
// verdicts, then up to maxPer findings of each anomaly (0: the default)
// with the operations that prove them.
func Table(w io.Writer, r check.Result, guarantees []check.Guarantee, maxPer int) error {
	if maxPer <= 0 {
		maxPer = DefaultMaxPerAnomaly
	}
	var b strings.Builder
	writeStats(&b, r.Stats)
	writeFaults(&b, r)
	writeMatrix(&b, r, guarantees)
	writeVerdicts(&b, r, guarantees)
	writeFindings(&b, r, maxPer)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeStats(b *strings.Builder, s check.Stats) {
	for _, line := range statsLines(s) {
		b.WriteString(line + "\n")
	}
	b.WriteString("\n")
}

// statsLines says what the history holds, a sentence a line.
func statsLines(s check.Stats) []string {
	lines := []string{
		fmt.Sprintf("History: %d operations by %d processes over %s, %d faults injected.",
			s.Ops, s.Processes, s.End.Sub(s.Start).Round(time.Millisecond), s.Faults),
		fmt.Sprintf("Sends: %d acknowledged, %d failed, %d unknown. Polls: %d, returning %d records.",
			s.SendsOK, s.SendsFail, s.SendsInfo, s.Polls, s.RecordsRead),
	}
	if n := s.TxnsCommitted + s.TxnsAborted + s.TxnsUnknown; n > 0 {
		lines = append(lines, fmt.Sprintf("Transactions: %d committed, %d aborted, %d unknown (reads proved %d of them committed, %d aborted).",
			s.TxnsCommitted, s.TxnsAborted, s.TxnsUnknown, s.TxnsTookEffect, s.TxnsProvedAborted))
	}
	return lines
}

// writeFaults lists what the run did to clients and brokers, so that a
// finding can be set against the fault that caused it. Every fault is
// shown: a run injects a handful per minute.
func writeFaults(b *strings.Builder, r check.Result) {
	if len(r.Faults) == 0 {
		return
	}
	b.WriteString("Faults:\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, op := range r.Faults {
		fmt.Fprintf(tw, "  +%s\t%s\n", seconds(op.Time.Sub(r.Stats.Start)), op)
	}
	tw.Flush()
	b.WriteString("\n")
}

// writeMatrix shows every anomaly, found or not, so that a clean run says
// what was checked.
func writeMatrix(b *strings.Builder, r check.Result, guarantees []check.Guarantee) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "ANOMALY\tFOUND")
	for _, g := range guarantees {
		fmt.Fprintf(tw, "\t%s", g)
	}
	fmt.Fprintln(tw)
	for _, an := range check.Anomalies {
		n := r.Count(an)
		fmt.Fprintf(tw, "%s\t%d", an, n)
		for _, g := range guarantees {
			fmt.Fprintf(tw, "\t%s", cell(g, an, n))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	b.WriteString("\n")
}

func cell(g check.Guarantee, an check.Anomaly, n int) string {
	switch {
	case n == 0:
		return "-"
	case g.Allows(an):
		return "counted"
	}
	return "VIOLATION"
}

func writeVerdicts(b *strings.Builder, r check.Result, guarantees []check.Guarantee) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, g := range guarantees {
		fmt.Fprintf(tw, "%s\t%s\n", g, VerdictText(check.Judge(r, g)))
	}
	tw.Flush()
}

// VerdictText says in one line whether a guarantee held, what broke it
// and what it counted.
func VerdictText(v check.Verdict) string {
	line := "holds"
	if !v.Holds {
		line = "VIOLATED by " + countsText(v.Violations)
	}
	if len(v.Counted) > 0 {
		line += "; counted: " + countsText(v.Counted)
	}
	return line
}

func countsText(cs []check.AnomalyCount) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %d", c.Anomaly, c.Count)
	}
	return strings.Join(parts, ", ")
}

func writeFindings(b *strings.Builder, r check.Result, maxPer int) {
	for _, an := range check.Anomalies {
		n := r.Count(an)
		if n == 0 {
			continue
		}
		fmt.Fprintf(b, "\n%s: %d\n", an, n)
		shown := 0
		for _, f := range r.Findings {
			if f.Anomaly != an {
				continue
			}
			if shown == maxPer {
				fmt.Fprintf(b, "  ... %d more (the JSON report has them all)\n", n-shown)
				break
			}
			shown++
			writeFinding(b, f, r.Stats.Start)
		}
	}
}

func writeFinding(b *strings.Builder, f check.Finding, start time.Time) {
	fmt.Fprintf(b, "  %s\n", f.Summary)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, e := range f.Evidence {
		fmt.Fprintf(tw, "    #%d\t+%s\t%s\t%s\n", e.Index, seconds(e.Op.Time.Sub(start)), e.Role, e.Op)
	}
	tw.Flush()
}

// seconds is a run-relative time in seconds, to the millisecond.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3fs", d.Seconds())
}
