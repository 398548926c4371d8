package check

import (
	"fmt"
	"slices"

	"sluice/internal/verify/history"
)

// nonmonotonicSends finds a process's acknowledged sends to one partition
// landing in the log in an order other than the one it sent them in.
// Sends are ordered by when they began (a producer's acknowledgements may
// be logged in another order than its sends were made). Without
// idempotence a retry may legitimately reorder records; with it, or in
// transactions, the order must hold.
func (a *analysis) nonmonotonicSends() []Finding {
	procs := a.byProcess(func(op history.Op) bool {
		return op.Acknowledged() && op.Record.Offset != history.NoOffset
	})
	var fs []Finding
	for _, p := range sortedKeys(procs) {
		sends := procs[p]
		slices.SortStableFunc(sends, func(x, y int) int { return a.ops[x].Time.Compare(a.ops[y].Time) })
		fs = append(fs, a.processSends(p, sends)...)
	}
	return fs
}

func (a *analysis) processSends(p int, sends []int) []Finding {
	var fs []Finding
	last := map[history.TopicPartition]int{}
	for _, i := range sends {
		r := *a.ops[i].Record
		if j, ok := last[r.TP()]; ok && a.sentBackwards(j, i) {
			fs = append(fs, a.nonmonotonicSend(p, j, i))
		}
		last[r.TP()] = i
	}
	return fs
}

// sentBackwards reports whether send i, made after send j, landed at or
// before it. The same record answered twice with its one offset is a
// retry, not a reordering.
func (a *analysis) sentBackwards(j, i int) bool {
	x, y := *a.ops[j].Record, *a.ops[i].Record
	return y.Offset <= x.Offset && y != x
}

func (a *analysis) nonmonotonicSend(p, j, i int) Finding {
	x, y := *a.ops[j].Record, *a.ops[i].Record
	return Finding{
		Anomaly: NonmonotonicSend, Partition: tpPtr(x.TP()), Process: &p,
		Offsets: []int64{x.Offset, y.Offset}, Values: []string{x.Value, y.Value},
		Summary: fmt.Sprintf("process %d sent %s, then %s, to %s/%d; they landed at offsets %d and %d",
			p, x.Value, y.Value, x.Topic, x.Partition, x.Offset, y.Offset),
		Evidence: []Evidence{
			a.evidence("sent first", j, nil),
			a.evidence("sent next", i, nil),
		},
	}
}
