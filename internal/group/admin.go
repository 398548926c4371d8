package group

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Describe reports a group for DescribeGroups; false if unknown (Kafka
// then reports state Dead with no error).
func (c *Coordinator) Describe(group string) (Description, bool) {
	g := c.groups[group]
	if g == nil {
		return Description{}, false
	}
	d := Description{Group: g.id, State: g.state, ProtocolType: g.protocolType, Members: []DescribedMember{}}
	stable := g.state == StateStable
	if stable {
		d.Protocol = g.protocol
	}
	g.each(func(m *classicMember) {
		dm := DescribedMember{MemberID: m.id, InstanceID: cloneString(m.instanceID), ClientID: m.clientID, ClientHost: m.clientHost}
		if stable {
			dm.Metadata = bytes.Clone(m.metadata(g.protocol))
			dm.Assignment = bytes.Clone(m.assignment)
		}
		d.Members = append(d.Members, dm)
	})
	return d, true
}

// List reports groups for ListGroups, sorted by id. states filters by
// state, case-insensitively (ListGroups v4+); empty means all.
func (c *Coordinator) List(states []string) []Listing {
	out := []Listing{}
	for _, g := range c.sortedGroups() {
		if len(states) > 0 && !slices.ContainsFunc(states, func(s string) bool { return strings.EqualFold(s, g.state) }) {
			continue
		}
		out = append(out, Listing{Group: g.id, ProtocolType: g.protocolType, State: g.state})
	}
	return out
}

// Delete removes an Empty group (DeleteGroups). The caller deletes its
// offsets.
func (c *Coordinator) Delete(group string) int16 {
	g := c.groups[group]
	switch {
	case g == nil:
		return kerr.GroupIDNotFound.Code
	case g.state != StateEmpty:
		return kerr.NonEmptyGroup.Code
	}
	// A group made again under the same name goes on from here: a
	// generation never comes back (generation.go).
	c.SetGenerationFloor(group, g.generation)
	delete(c.recovering, group)
	delete(c.groups, group)
	return errNone
}

// IsEmpty reports whether a group is Empty and since when, for offset
// expiry (KIP-211: offsets of an Empty group expire a retention period
// after it became Empty). since is zero when unknown (the group was made by
// Touch): expire by commit time then.
func (c *Coordinator) IsEmpty(group string) (empty bool, since time.Time, ok bool) {
	g := c.groups[group]
	if g == nil {
		return false, time.Time{}, false
	}
	if g.state != StateEmpty {
		return false, time.Time{}, true
	}
	return true, g.emptySince, true
}
