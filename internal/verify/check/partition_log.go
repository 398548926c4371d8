package check

import (
	"fmt"
	"slices"
)

// partitionLog is what the history shows of one partition's log: the
// values seen at each offset, from acknowledged sends and from polls.
// Offsets between those seen are not assumed empty or full: transaction
// markers take offsets no client sees, so a gap proves nothing.
type partitionLog struct {
	offsets []int64 // distinct, sorted once the history is indexed
	at      map[int64][]sighting
}

// sighting is one distinct value at an offset and the first op that
// showed it there.
type sighting struct {
	value string
	op    int
}

func (l *partitionLog) see(offset int64, value string, op int) {
	seen, ok := l.at[offset]
	if !ok {
		l.offsets = append(l.offsets, offset)
	}
	for _, s := range seen {
		if s.value == value {
			return
		}
	}
	l.at[offset] = append(seen, sighting{value, op})
}

// between lists the offsets seen strictly between lo and hi, in order.
func (l *partitionLog) between(lo, hi int64) []int64 {
	from, _ := slices.BinarySearch(l.offsets, lo+1)
	to, _ := slices.BinarySearch(l.offsets, hi)
	return l.offsets[from:to]
}

// shownAt is the first op that showed value at offset.
func (l *partitionLog) shownAt(offset int64, value string) int {
	for _, s := range l.at[offset] {
		if s.value == value {
			return s.op
		}
	}
	return -1
}

// inconsistentOffsets finds offsets seen holding more than one value:
// a partition's log gives each offset one record, whoever reads it.
func (a *analysis) inconsistentOffsets() []Finding {
	var fs []Finding
	for _, tp := range a.partitions() {
		l := a.logs[tp]
		for _, off := range l.offsets {
			seen := l.at[off]
			if len(seen) < 2 {
				continue
			}
			f := Finding{Anomaly: InconsistentOffsets, Partition: tpPtr(tp), Offsets: []int64{off}}
			for _, s := range seen {
				f.Values = append(f.Values, s.value)
				f.Evidence = append(f.Evidence, a.evidence(fmt.Sprintf("showed %s at offset %d", s.value, off), s.op, near(tp, off)))
			}
			f.Summary = fmt.Sprintf("offset %d of %s/%d holds %d different values: %v", off, tp.Topic, tp.Partition, len(seen), f.Values)
			fs = append(fs, f)
		}
	}
	return fs
}
