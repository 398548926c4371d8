package check

import (
	"fmt"

	"sluice/internal/verify/history"
)

// position is where a consumer last read a partition.
type position struct {
	offset int64
	value  string
	op     int
}

// pollOrder follows each process's reads of each partition, record by
// record, within a poll and across polls: each must come right after the
// one before in the log. Going back (or reading an offset again) is a
// nonmonotonic-poll; jumping over records the consumer should have seen
// is a poll-skip. An assign or revoke of a partition ends the tracking of
// it, as Jepsen does: a rebalance or seek legitimately moves a consumer to
// its group's committed offset, wherever that is.
func (a *analysis) pollOrder() []Finding {
	procs := a.byProcess(func(op history.Op) bool {
		return op.Kind == history.Poll || op.Kind == history.Assign || op.Kind == history.Revoke
	})
	var fs []Finding
	for _, p := range sortedKeys(procs) {
		fs = append(fs, a.processPolls(p, procs[p])...)
	}
	return fs
}

func (a *analysis) processPolls(p int, ops []int) []Finding {
	var fs []Finding
	last := map[history.TopicPartition]position{}
	for _, i := range ops {
		op := a.ops[i]
		if op.Kind != history.Poll {
			for _, tp := range op.Partitions {
				delete(last, tp)
			}
			continue
		}
		for _, r := range op.Records {
			if prev, ok := last[r.TP()]; ok {
				if f, bad := a.pollStep(p, prev, i, r); bad {
					fs = append(fs, f)
				}
			}
			last[r.TP()] = position{r.Offset, r.Value, i}
		}
	}
	return fs
}

// pollStep checks one step of process p's reads of a partition: from
// prev to the record r that poll i returned.
func (a *analysis) pollStep(p int, prev position, i int, r history.Record) (Finding, bool) {
	tp := r.TP()
	f := Finding{Partition: tpPtr(tp), Process: &p}
	if r.Offset <= prev.offset {
		f.Anomaly = NonmonotonicPoll
		f.Offsets, f.Values = []int64{prev.offset, r.Offset}, []string{prev.value, r.Value}
		f.Summary = fmt.Sprintf("process %d read offset %d of %s/%d, then offset %d", p, prev.offset, tp.Topic, tp.Partition, r.Offset)
		f.Evidence = a.stepEvidence(prev, i, r)
		return f, true
	}
	l := a.logs[tp]
	for _, off := range l.between(prev.offset, r.Offset) {
		for _, s := range l.at[off] {
			if a.expected(a.ops[i].Isolation, tp, off, s.value) {
				f.Offsets, f.Values = append(f.Offsets, off), append(f.Values, s.value)
			}
		}
	}
	if len(f.Offsets) == 0 {
		return f, false
	}
	f.Anomaly = PollSkip
	f.Summary = fmt.Sprintf("process %d read offset %d of %s/%d, then offset %d, skipping %v", p, prev.offset, tp.Topic, tp.Partition, r.Offset, f.Values)
	first := f.Offsets[0]
	f.Evidence = append(a.stepEvidence(prev, i, r),
		a.evidence(fmt.Sprintf("showed %s at offset %d", f.Values[0], first), l.shownAt(first, f.Values[0]), near(tp, first)))
	return f, true
}

// stepEvidence is the poll (or the two polls) of one step.
func (a *analysis) stepEvidence(prev position, i int, r history.Record) []Evidence {
	keep := near(r.TP(), prev.offset, r.Offset)
	if prev.op == i {
		return []Evidence{a.evidence(fmt.Sprintf("read offset %d, then %d", prev.offset, r.Offset), i, keep)}
	}
	return []Evidence{
		a.evidence(fmt.Sprintf("read offset %d", prev.offset), prev.op, keep),
		a.evidence(fmt.Sprintf("then read offset %d", r.Offset), i, keep),
	}
}
