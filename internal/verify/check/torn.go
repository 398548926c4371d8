package check

import (
	"fmt"

	"sluice/internal/verify/history"
)

// tornTransactions finds transactions that took effect in part: one of
// their records was returned at read_committed, another never was,
// although read_committed readers went past its offset. A transaction
// commits or aborts as a whole, in every partition it wrote to; the
// Bufstream analysis showed how a commit marker for one transaction can
// land on the next one and tear both.
func (a *analysis) tornTransactions() []Finding {
	lastRC := a.lastReadCommitted()
	var fs []Finding
	for _, id := range sortedKeys(a.txns) {
		t := a.txns[id]
		if t.status != committed {
			continue
		}
		if f, torn := a.torn(t, lastRC); torn {
			fs = append(fs, f)
		}
	}
	return fs
}

// lastReadCommitted is, per partition, the read_committed poll that read
// the highest offset.
func (a *analysis) lastReadCommitted() map[history.TopicPartition]read {
	last := map[history.TopicPartition]read{}
	for i, op := range a.ops {
		if op.Isolation != history.ReadCommitted {
			continue
		}
		for _, r := range op.Records {
			if cur, ok := last[r.TP()]; !ok || r.Offset > cur.offset {
				last[r.TP()] = read{i, r.Offset}
			}
		}
	}
	return last
}

func (a *analysis) torn(t *txn, lastRC map[history.TopicPartition]read) (Finding, bool) {
	var visible, missing []int
	for _, i := range t.ops {
		op := a.ops[i]
		if !op.Acknowledged() {
			continue
		}
		if a.readCommitted(i) {
			visible = append(visible, i)
		} else if last, ok := lastRC[op.Record.TP()]; ok && op.Record.Offset != history.NoOffset && last.offset > op.Record.Offset {
			missing = append(missing, i)
		}
	}
	if len(visible) == 0 || len(missing) == 0 {
		return Finding{}, false
	}
	f := Finding{Anomaly: TornTransaction, Txns: []string{t.id}}
	if t.decided >= 0 {
		f.Evidence = append(f.Evidence, a.endEvidence(t))
	}
	v := *a.ops[visible[0]].Record
	f.Evidence = append(f.Evidence,
		a.evidence("wrote a visible record", visible[0], nil),
		a.evidence("read it at read_committed", a.readersOf(visible[0], history.ReadCommitted)[0], holding(v.TP(), v.Value)))
	for _, i := range missing {
		r := *a.ops[i].Record
		last := lastRC[r.TP()]
		f.Offsets, f.Values = append(f.Offsets, r.Offset), append(f.Values, r.Value)
		f.Evidence = append(f.Evidence,
			a.evidence("wrote a record never read", i, nil),
			a.evidence(fmt.Sprintf("read offset %d, later, at read_committed", last.offset), last.op, near(r.TP(), last.offset)))
	}
	never := fmt.Sprintf("%v never were", f.Values)
	if len(f.Values) == 1 {
		never = f.Values[0] + " never was"
	}
	f.Summary = fmt.Sprintf("%s took effect in part: %s was read at read_committed, %s", t.id, v.Value, never)
	return f, true
}
