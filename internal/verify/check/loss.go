package check

import (
	"fmt"

	"sluice/internal/verify/history"
)

// acknowledged reports whether send i's record was promised to be in the
// log: the broker acknowledged it and, inside a transaction, the commit
// was acknowledged too (a transactional send's ack promises nothing
// until then).
func (a *analysis) acknowledged(i int) bool {
	op := a.ops[i]
	return op.Acknowledged() && (op.Txn == "" || a.txns[op.Txn].acknowledged)
}

// lastRead is, per partition, the poll that read the highest offset.
func (a *analysis) lastRead() map[history.TopicPartition]read {
	last := map[history.TopicPartition]read{}
	for i, op := range a.ops {
		for _, r := range op.Records {
			if cur, ok := last[r.TP()]; !ok || r.Offset > cur.offset {
				last[r.TP()] = read{i, r.Offset}
			}
		}
	}
	return last
}

// losses finds acknowledged records that no poll ever returned. With
// proof that readers went past one (a later offset of its partition was
// read) it is a lost-write; without, it is unseen: perhaps lost, perhaps
// only not read before the run ended. Each record is reported once.
func (a *analysis) losses() []Finding {
	last := a.lastRead()
	var fs []Finding
	for _, k := range sortedValueKeys(a.sends) {
		if len(a.reads[k]) > 0 || !a.someAcknowledged(k) {
			continue
		}
		l, ok := last[k.tp]
		if !ok {
			l = read{-1, -1}
		}
		fs = append(fs, a.lossOf(k, l))
	}
	return fs
}

func (a *analysis) someAcknowledged(k valueKey) bool {
	for _, i := range a.sends[k] {
		if a.acknowledged(i) {
			return true
		}
	}
	return false
}

// lossOf builds the finding for an acknowledged, never-read value.
func (a *analysis) lossOf(k valueKey, last read) Finding {
	f := Finding{Anomaly: Unseen, Partition: tpPtr(k.tp), Values: []string{k.value}}
	lost := false
	for _, i := range a.sends[k] {
		if !a.acknowledged(i) {
			continue
		}
		off := a.ops[i].Record.Offset
		f.Evidence = append(f.Evidence, a.evidence("acknowledged send", i, nil))
		if off != history.NoOffset {
			f.Offsets = append(f.Offsets, off)
			lost = lost || off < last.offset
		}
	}
	f.Evidence = append(f.Evidence, a.commitsOf(f.Evidence)...)
	if !lost {
		f.Summary = fmt.Sprintf("%s was acknowledged and never read", k.value)
		return f
	}
	f.Anomaly = LostWrite
	f.Evidence = append(f.Evidence, a.evidence(fmt.Sprintf("read offset %d, later", last.offset), last.op, near(k.tp, last.offset)))
	f.Summary = fmt.Sprintf("%s was acknowledged at %s and never read, though offset %d was", k.value, offsetsText(f.Offsets), last.offset)
	return f
}

// commitsOf adds, for transactional sends among the evidence, the commit
// that acknowledged their transaction.
func (a *analysis) commitsOf(sends []Evidence) []Evidence {
	var out []Evidence
	seen := map[string]bool{}
	for _, e := range sends {
		if t := e.Op.Txn; t != "" && !seen[t] {
			seen[t] = true
			out = append(out, a.endEvidence(a.txns[t]))
		}
	}
	return out
}
