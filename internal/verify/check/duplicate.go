package check

import (
	"fmt"
	"slices"

	"sluice/internal/verify/history"
)

// duplicates finds values stored at more than one offset of a partition:
// a producer's retry appended again. Copies in aborted transactions do
// not count: a consume-process-produce worker writes the same output
// again after an abort, and no read_committed reader sees the first copy.
func (a *analysis) duplicates() []Finding {
	var fs []Finding
	for _, tp := range a.partitions() {
		l := a.logs[tp]
		offsetsOf := map[string][]int64{}
		for _, off := range l.offsets {
			for _, s := range l.at[off] {
				if st, _ := a.recordStatus(tp, off, s.value); st != aborted {
					offsetsOf[s.value] = append(offsetsOf[s.value], off)
				}
			}
		}
		for _, v := range sortedKeys(offsetsOf) {
			if offs := offsetsOf[v]; len(offs) > 1 {
				fs = append(fs, a.duplicate(tp, v, offs))
			}
		}
	}
	return fs
}

func (a *analysis) duplicate(tp history.TopicPartition, v string, offs []int64) Finding {
	f := Finding{Anomaly: Duplicate, Partition: tpPtr(tp), Values: []string{v}, Offsets: offs}
	for _, off := range offs {
		f.Evidence = append(f.Evidence, a.evidence(fmt.Sprintf("showed %s at offset %d", v, off), a.logs[tp].shownAt(off, v), near(tp, off)))
	}
	f.Summary = fmt.Sprintf("%s is stored at %d offsets of %s/%d: %v", v, len(offs), tp.Topic, tp.Partition, offs)
	return f
}

// delivery is one record delivered to a group's application.
type delivery struct {
	group string
	key   valueKey
}

// duplicateDeliveries finds records a consumer group's application
// received more than once: a consumer that crashed before committing, a
// rebalance that handed a partition over before its offsets were
// committed, a transactional worker that processed one input in two
// transactions that both took effect.
func (a *analysis) duplicateDeliveries() []Finding {
	got := map[delivery][]read{}
	for i, op := range a.ops {
		if op.Kind != history.Poll || !a.delivered(i) {
			continue
		}
		for _, r := range op.Records {
			d := delivery{op.Group, valueKey{r.TP(), r.Value}}
			got[d] = append(got[d], read{i, r.Offset})
		}
	}
	var fs []Finding
	for d, reads := range got {
		if len(reads) > 1 {
			fs = append(fs, a.duplicateDelivery(d, reads))
		}
	}
	return fs
}

func (a *analysis) duplicateDelivery(d delivery, reads []read) Finding {
	f := Finding{Anomaly: DuplicateDelivery, Partition: tpPtr(d.key.tp), Group: d.group, Values: []string{d.key.value}}
	var ops []int
	for _, rd := range reads {
		f.Offsets = append(f.Offsets, rd.offset)
		ops = append(ops, rd.op)
	}
	for _, i := range slices.Compact(ops) {
		f.Evidence = append(f.Evidence, a.evidence("delivered it", i, holding(d.key.tp, d.key.value)))
	}
	f.Summary = fmt.Sprintf("group %s received %s %d times", d.group, d.key.value, len(reads))
	return f
}
