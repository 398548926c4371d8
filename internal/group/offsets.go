package group

import (
	"maps"
	"slices"
	"time"
)

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Committed is one committed offset as the group stored it.
type Committed struct {
	Offset      int64
	LeaderEpoch int32 // -1 when the client did not send one
	Metadata    string
	CommitTime  int64 // ms since the epoch, when the broker accepted it
}

// Offsets is the table of committed offsets: group -> partition ->
// committed. It is pure state: it changes only by Apply, in the order the
// records stand in the offsets log, so replaying the log rebuilds it.
type Offsets struct {
	groups map[string]map[TopicPartition]Committed
	// pending holds, per producer id, the offsets of its undecided
	// transaction (txn_offsets.go).
	pending map[int64][]txnOffset
}

// NewOffsets returns an empty table.
func NewOffsets() *Offsets {
	return &Offsets{groups: map[string]map[TopicPartition]Committed{}}
}

// Apply sets (c != nil) or deletes (c == nil) one committed offset.
func (o *Offsets) Apply(group string, tp TopicPartition, c *Committed) {
	g := o.groups[group]
	if c == nil {
		delete(g, tp)
		if len(g) == 0 {
			delete(o.groups, group)
		}
		return
	}
	if g == nil {
		g = map[TopicPartition]Committed{}
		o.groups[group] = g
	}
	g[tp] = *c
}

// Get returns the committed offset of one partition.
func (o *Offsets) Get(group string, tp TopicPartition) (Committed, bool) {
	c, ok := o.groups[group][tp]
	return c, ok
}

// Group returns a copy of every committed offset of a group.
func (o *Offsets) Group(group string) map[TopicPartition]Committed {
	return maps.Clone(o.groups[group])
}

// HasGroup reports whether the group has any committed offset.
func (o *Offsets) HasGroup(group string) bool { return len(o.groups[group]) > 0 }

// Groups returns the groups with committed offsets, sorted.
func (o *Offsets) Groups() []string { return slices.Sorted(maps.Keys(o.groups)) }

// Count returns how many committed offsets the table holds.
func (o *Offsets) Count() int {
	n := 0
	for _, g := range o.groups {
		n += len(g)
	}
	return n
}

// Expired returns the partitions of an empty group whose offsets have
// outlived retention (KIP-211): an offset expires when both its commit and
// the moment the group became empty are older than retention. A group with
// members never loses offsets to expiry.
func (o *Offsets) Expired(group string, emptySince, now time.Time, retention time.Duration) []TopicPartition {
	cutoff := now.Add(-retention)
	if emptySince.After(cutoff) {
		return nil
	}
	var out []TopicPartition
	for tp, c := range o.groups[group] {
		if time.UnixMilli(c.CommitTime).Before(cutoff) {
			out = append(out, tp)
		}
	}
	slices.SortFunc(out, func(a, b TopicPartition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
	return out
}
