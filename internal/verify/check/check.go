package check

import (
	"time"

	"sluice/internal/verify/history"
)

// Result is what Check found.
type Result struct {
	Stats Stats `json:"stats"`
	// Findings are sorted: by anomaly (in the order of Anomalies), then
	// partition, group, offsets, values, transactions, first evidence.
	Findings []Finding `json:"findings"`
	// Faults are the history's fault ops, in order: what the run did to
	// the clients and brokers, for the reader to set against the findings.
	Faults []history.Op `json:"faults"`
}

// Stats counts what the history holds.
type Stats struct {
	Ops       int       `json:"ops"`
	Processes int       `json:"processes"`
	Start     time.Time `json:"start,omitzero"`
	End       time.Time `json:"end,omitzero"`
	// Sends by outcome.
	SendsOK   int `json:"sends_ok"`
	SendsFail int `json:"sends_fail"`
	SendsInfo int `json:"sends_info"`
	Polls     int `json:"polls"`
	// RecordsRead counts records over all polls, repeats included.
	RecordsRead int `json:"records_read"`
	// Transactions by status: acknowledged commits, aborts (or definitely
	// failed commits), and the rest, which took effect or not (see
	// TxnsTookEffect).
	TxnsCommitted int `json:"txns_committed"`
	TxnsAborted   int `json:"txns_aborted"`
	TxnsUnknown   int `json:"txns_unknown"`
	// TxnsTookEffect counts unknown transactions a read_committed poll
	// proved committed, TxnsProvedAborted those read_committed polls
	// proved aborted (they read past a write without returning it).
	TxnsTookEffect    int `json:"txns_took_effect"`
	TxnsProvedAborted int `json:"txns_proved_aborted"`
	Faults            int `json:"faults"`
}

// Check analyses a history (one run, merged in time order) and returns
// every anomaly it finds. It does no I/O and reads no clock; the same
// history gives the same result.
func Check(ops []history.Op) Result {
	a := newAnalysis(ops)
	var fs []Finding
	for _, detect := range []func() []Finding{
		a.losses,
		a.undelivered,
		a.duplicates,
		a.duplicateDeliveries,
		a.inconsistentOffsets,
		a.abortedReads,
		a.precommittedReads,
		a.tornTransactions,
		a.cycles,
		a.pollOrder,
		a.nonmonotonicSends,
	} {
		fs = append(fs, detect()...)
	}
	sortFindings(fs)
	return Result{Stats: a.stats(), Findings: fs, Faults: a.faults()}
}

// Count is the number of findings of one anomaly.
func (r Result) Count(an Anomaly) int {
	n := 0
	for _, f := range r.Findings {
		if f.Anomaly == an {
			n++
		}
	}
	return n
}

func (a *analysis) faults() []history.Op {
	fs := []history.Op{}
	for _, op := range a.ops {
		if op.Kind == history.Fault {
			fs = append(fs, op)
		}
	}
	return fs
}

func (a *analysis) stats() Stats {
	s := Stats{Ops: len(a.ops)}
	procs := map[int]bool{}
	for _, op := range a.ops {
		procs[op.Process] = true
		s.count(op)
	}
	s.Processes = len(procs)
	for _, t := range a.txns {
		switch {
		case t.acknowledged:
			s.TxnsCommitted++
		case t.status == aborted && !t.provedAborted:
			s.TxnsAborted++
		default:
			s.TxnsUnknown++
			s.TxnsTookEffect += boolInt(t.status == committed)
			s.TxnsProvedAborted += boolInt(t.provedAborted)
		}
	}
	return s
}

func (s *Stats) count(op history.Op) {
	if s.Start.IsZero() || op.Time.Before(s.Start) {
		s.Start = op.Time
	}
	s.End = later(s.End, later(op.Time, op.End))
	switch op.Kind {
	case history.Send:
		s.SendsOK += boolInt(op.Outcome == history.OK)
		s.SendsFail += boolInt(op.Outcome == history.Fail)
		s.SendsInfo += boolInt(op.Outcome == history.Info)
	case history.Poll:
		s.Polls++
		s.RecordsRead += len(op.Records)
	case history.Fault:
		s.Faults++
	}
}

func later(x, y time.Time) time.Time {
	if y.After(x) {
		return y
	}
	return x
}
