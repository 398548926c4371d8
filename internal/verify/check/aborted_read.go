package check

import (
	"fmt"
	"slices"

	"sluice/internal/verify/history"
)

// recordKey is one record: a value at an offset.
type recordKey struct {
	pos   posKey
	value string
}

// abortedReads finds G1a: a poll returning a record that must not be
// visible to it. At read_committed, that is any record of an aborted
// transaction; at either level, a record of a plain send that definitely
// failed (a client told "failed" for a record that was stored may resend
// it: a duplicate nobody can see coming). Reads of a record whose
// transaction's outcome is unknown are no anomaly: the commit may have
// happened.
func (a *analysis) abortedReads() []Finding {
	readers := map[recordKey][]int{}
	var order []recordKey
	for i, op := range a.ops {
		for _, r := range op.Records {
			st, ws := a.recordStatus(r.TP(), r.Offset, r.Value)
			if st != aborted || (op.Isolation != history.ReadCommitted && a.anyTransactional(ws)) {
				continue
			}
			k := recordKey{posKey{r.TP(), r.Offset}, r.Value}
			if _, ok := readers[k]; !ok {
				order = append(order, k)
			}
			readers[k] = append(readers[k], i)
		}
	}
	var fs []Finding
	for _, k := range order {
		fs = append(fs, a.abortedRead(k, slices.Compact(readers[k])))
	}
	return fs
}

func (a *analysis) anyTransactional(sends []int) bool {
	for _, i := range sends {
		if a.ops[i].Txn != "" {
			return true
		}
	}
	return false
}

func (a *analysis) abortedRead(k recordKey, readers []int) Finding {
	tp, off := k.pos.tp, k.pos.offset
	f := Finding{Anomaly: G1a, Partition: tpPtr(tp), Offsets: []int64{off}, Values: []string{k.value}}
	_, ws := a.recordStatus(tp, off, k.value)
	why := "its send failed"
	for _, w := range ws {
		op := a.ops[w]
		if op.Txn == "" {
			f.Evidence = append(f.Evidence, a.evidence("failed send", w, nil))
			continue
		}
		why = "its transaction aborted"
		f.Txns = append(f.Txns, op.Txn)
		f.Evidence = append(f.Evidence, a.evidence("wrote it in "+op.Txn, w, nil))
		if t := a.txns[op.Txn]; t.decided >= 0 {
			f.Evidence = append(f.Evidence, a.endEvidence(t))
		}
	}
	for _, r := range readers {
		f.Evidence = append(f.Evidence, a.evidence(fmt.Sprintf("read it at %s", a.ops[r].Isolation), r, near(tp, off)))
	}
	f.Summary = fmt.Sprintf("%s (offset %d of %s/%d) never took effect (%s), yet %s returned it",
		k.value, off, tp.Topic, tp.Partition, why, plural(len(readers), "poll"))
	return f
}

// precommittedReads finds a transaction reading its own writes: Kafka's
// transactions keep every write invisible to every reader, the writer's
// own consumer included, until the commit.
func (a *analysis) precommittedReads() []Finding {
	var fs []Finding
	for i, op := range a.ops {
		if op.Kind != history.Poll || op.Txn == "" {
			continue
		}
		for _, r := range op.Records {
			for _, w := range a.writersOf(r.TP(), r.Offset, r.Value) {
				if a.ops[w].Txn == op.Txn {
					fs = append(fs, Finding{
						Anomaly: PrecommittedRead, Partition: tpPtr(r.TP()), Txns: []string{op.Txn},
						Offsets: []int64{r.Offset}, Values: []string{r.Value},
						Summary: fmt.Sprintf("%s read %s, which it wrote itself", op.Txn, r.Value),
						Evidence: []Evidence{
							a.evidence("wrote it in "+op.Txn, w, nil),
							a.evidence("read it in "+op.Txn, i, holding(r.TP(), r.Value)),
						},
					})
				}
			}
		}
	}
	return fs
}
