package check

import (
	"cmp"
	"slices"
	"strings"

	"sluice/internal/verify/history"
)

// valueKey is a value in one partition; a workload's values are unique per
// record it sends, so this names one record (or its copies).
type valueKey struct {
	tp    history.TopicPartition
	value string
}

// posKey is one offset of one partition.
type posKey struct {
	tp     history.TopicPartition
	offset int64
}

// read is one record of one poll.
type read struct {
	op     int
	offset int64
}

// analysis is the history indexed for the detectors. Built once by
// newAnalysis; the detectors only read it.
type analysis struct {
	ops []history.Op
	// sends holds every send of a value, in history order.
	sends map[valueKey][]int
	// sendAt is the acknowledged send that reported an offset (the first,
	// if several did: that is an inconsistent-offsets finding).
	sendAt map[posKey]int
	// reads holds every poll record of a value, in history order.
	reads map[valueKey][]read
	logs  map[history.TopicPartition]*partitionLog
	txns  map[string]*txn
}

func newAnalysis(ops []history.Op) *analysis {
	a := &analysis{
		ops:    ops,
		sends:  map[valueKey][]int{},
		sendAt: map[posKey]int{},
		reads:  map[valueKey][]read{},
		logs:   map[history.TopicPartition]*partitionLog{},
		txns:   map[string]*txn{},
	}
	for i, op := range ops {
		a.index(i, op)
	}
	for _, l := range a.logs {
		slices.Sort(l.offsets)
	}
	a.resolveTxns()
	return a
}

func (a *analysis) index(i int, op history.Op) {
	if op.Txn != "" {
		a.txn(op.Txn).ops = append(a.txn(op.Txn).ops, i)
	}
	switch op.Kind {
	case history.Send:
		r := *op.Record
		a.sends[valueKey{r.TP(), r.Value}] = append(a.sends[valueKey{r.TP(), r.Value}], i)
		if op.Outcome == history.OK && r.Offset != history.NoOffset {
			if _, dup := a.sendAt[posKey{r.TP(), r.Offset}]; !dup {
				a.sendAt[posKey{r.TP(), r.Offset}] = i
			}
			a.log(r.TP()).see(r.Offset, r.Value, i)
		}
	case history.Poll:
		for _, r := range op.Records {
			k := valueKey{r.TP(), r.Value}
			a.reads[k] = append(a.reads[k], read{i, r.Offset})
			a.log(r.TP()).see(r.Offset, r.Value, i)
		}
	}
}

func (a *analysis) log(tp history.TopicPartition) *partitionLog {
	l, ok := a.logs[tp]
	if !ok {
		l = &partitionLog{at: map[int64][]sighting{}}
		a.logs[tp] = l
	}
	return l
}

// partitions lists the partitions the history shows, sorted.
func (a *analysis) partitions() []history.TopicPartition {
	tps := make([]history.TopicPartition, 0, len(a.logs))
	for tp := range a.logs {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, compareTP)
	return tps
}

// sortedValueKeys returns a map's value keys by partition, then value.
func sortedValueKeys[V any](m map[valueKey]V) []valueKey {
	keys := make([]valueKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y valueKey) int {
		return cmp.Or(compareTP(x.tp, y.tp), strings.Compare(x.value, y.value))
	})
	return keys
}

func compareTP(x, y history.TopicPartition) int {
	return cmp.Or(strings.Compare(x.Topic, y.Topic), cmp.Compare(x.Partition, y.Partition))
}

// sortedKeys returns a map's keys in order, for deterministic walks.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// byProcess groups op indexes by process, each in history order.
func (a *analysis) byProcess(keep func(history.Op) bool) map[int][]int {
	procs := map[int][]int{}
	for i, op := range a.ops {
		if keep(op) {
			procs[op.Process] = append(procs[op.Process], i)
		}
	}
	return procs
}

func tpPtr(tp history.TopicPartition) *history.TopicPartition { return &tp }
