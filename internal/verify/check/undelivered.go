package check

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"sluice/internal/verify/history"
)

// groupPartition is one partition as one consumer group consumes it.
type groupPartition struct {
	group string
	tp    history.TopicPartition
}

// groupProgress is what a group's application received of a partition.
type groupProgress struct {
	values map[string]bool
	last   read // the delivery of the highest offset
	iso    history.Isolation
}

// undelivered finds records a consumer group's application never
// received although it received a later offset of the same partition:
// the group's committed offsets passed a record its application never
// processed (committed before processing, then crashed; or committed a
// position the poll had not reached). It assumes the group reads each
// partition from its start (auto.offset.reset=earliest, the group
// created before the first record), as verify's workloads do.
func (a *analysis) undelivered() []Finding {
	progress := a.groupProgress()
	var fs []Finding
	for _, g := range sortedGroupPartitions(progress) {
		fs = append(fs, a.undeliveredIn(g, progress[g])...)
	}
	return fs
}

func (a *analysis) groupProgress() map[groupPartition]*groupProgress {
	progress := map[groupPartition]*groupProgress{}
	for i, op := range a.ops {
		if op.Kind != history.Poll || !a.delivered(i) {
			continue
		}
		for _, r := range op.Records {
			g := groupPartition{op.Group, r.TP()}
			p, ok := progress[g]
			if !ok {
				p = &groupProgress{values: map[string]bool{}, last: read{i, r.Offset}, iso: op.Isolation}
				progress[g] = p
			}
			p.values[r.Value] = true
			if r.Offset > p.last.offset {
				p.last = read{i, r.Offset}
			}
		}
	}
	return progress
}

func (a *analysis) undeliveredIn(g groupPartition, p *groupProgress) []Finding {
	var fs []Finding
	l := a.logs[g.tp]
	for _, off := range l.between(-1, p.last.offset) {
		for _, s := range l.at[off] {
			if p.values[s.value] || !a.expected(p.iso, g.tp, off, s.value) {
				continue
			}
			fs = append(fs, Finding{
				Anomaly: Undelivered, Partition: tpPtr(g.tp), Group: g.group,
				Offsets: []int64{off}, Values: []string{s.value},
				Summary: fmt.Sprintf("group %s never received %s (offset %d), though it received offset %d", g.group, s.value, off, p.last.offset),
				Evidence: []Evidence{
					a.evidence(fmt.Sprintf("showed %s at offset %d", s.value, off), s.op, near(g.tp, off)),
					a.evidence(fmt.Sprintf("delivered offset %d to the group", p.last.offset), p.last.op, near(g.tp, p.last.offset)),
				},
			})
		}
	}
	return fs
}

func sortedGroupPartitions(m map[groupPartition]*groupProgress) []groupPartition {
	gs := make([]groupPartition, 0, len(m))
	for g := range m {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(x, y groupPartition) int {
		return cmp.Or(strings.Compare(x.group, y.group), compareTP(x.tp, y.tp))
	})
	return gs
}
