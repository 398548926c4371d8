package group

import (
	"bytes"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/recordbatch"
)

// A group's membership is kept over a restart, as Kafka keeps it over a
// coordinator move: members go on heartbeating and committing in the
// generation they had, and nobody rejoins. Without it, the first member
// back would form a generation alone and take partitions the others go
// on consuming until they learn of it, and a record would be delivered
// twice (docs/semantics.md, "Rebalances").
//
// The service writes a group's state (Kafka's group metadata record, key
// version 2, value version 3, with every member's subscription and
// assignment) and waits until it is durable before it hands out the
// replies of the call that changed it. The state changes so that a
// restart must see it when:
//   - the leader's assignment settles a generation (the SyncGroup
//     answers carry it, so they wait for the record);
//   - a static member takes over under a new member id in a Stable group
//     (KIP-345: the old id is fenced, and must stay fenced);
//   - the group becomes Empty (a restart must not bring back members that
//     left).
//
// A record with no members and no protocol type is a generation
// reservation (generation.go), not a state: it changes no membership.

// markStored notes that g's stored state must be written before the
// replies of this call go out.
func (c *Coordinator) markStored(g *classicGroup) {
	for _, id := range c.stored {
		if id == g.id {
			return
		}
	}
	c.stored = append(c.stored, g.id)
}

// drainStored returns the groups marked since the last drain, with the
// record of each one's state now.
func (c *Coordinator) drainStored(now time.Time) []storedGroup {
	var out []storedGroup
	for _, id := range c.stored {
		if g, ok := c.groups[id]; ok {
			out = append(out, storedGroup{group: id, record: encodeGroupState(g, now)})
		}
	}
	c.stored = c.stored[:0]
	return out
}

// storeFailed starts a rebalance of a Stable group whose state could not
// be stored: its members learn of it at their next heartbeat and rejoin.
func (c *Coordinator) storeFailed(now time.Time, group string) []Reply {
	if g, ok := c.groups[group]; ok && g.state == StateStable {
		c.prepareRebalance(now, g)
	}
	return c.drain()
}

// storedGroup is one group's state record, ready to append.
type storedGroup struct {
	group  string
	record recordbatch.Record
}

// encodeGroupState is g's state as Kafka's group metadata record. Only
// the selected protocol's metadata of each member is kept, as in Kafka.
func encodeGroupState(g *classicGroup, now time.Time) recordbatch.Record {
	k := kmsg.NewGroupMetadataKey()
	k.Version, k.Group = groupKeyVersion, g.id
	v := kmsg.NewGroupMetadataValue()
	v.Version = groupValueVersion
	v.ProtocolType, v.Generation = g.protocolType, g.generation
	v.CurrentStateTimestamp = now.UnixMilli()
	// An Empty group has no members, protocol or leader: nil, as Kafka
	// writes it.
	v.Protocol, v.Leader = g.protocolPtr(), strPtr(g.leader)
	g.each(func(m *classicMember) {
		mm := kmsg.NewGroupMetadataValueMember()
		mm.MemberID, mm.InstanceID = m.id, cloneString(m.instanceID)
		mm.ClientID, mm.ClientHost = m.clientID, m.clientHost
		mm.RebalanceTimeoutMillis = int32(m.rebalanceTimeout.Milliseconds())
		mm.SessionTimeoutMillis = int32(m.sessionTimeout.Milliseconds())
		mm.Subscription = bytes.Clone(m.metadata(g.protocol))
		mm.Assignment = bytes.Clone(m.assignment)
		v.Members = append(v.Members, mm)
	})
	return recordbatch.Record{Key: k.AppendTo(nil), Value: v.AppendTo(nil)}
}

// groupRecord is a decoded group metadata record: a reservation of
// generations, or a group's state.
type groupRecord struct {
	group string
	value kmsg.GroupMetadataValue
}

// reservation reports whether the record only reserves generations.
func (r *groupRecord) reservation() bool {
	return r.value.ProtocolType == "" && len(r.value.Members) == 0
}

// decodeGroupRecord reads a group metadata record; ok is false for
// records of other kinds, and for a tombstone.
func decodeGroupRecord(key, value []byte) (groupRecord, bool) {
	k := kmsg.NewGroupMetadataKey()
	if len(key) < 2 || k.ReadFrom(key) != nil || k.Version != groupKeyVersion || value == nil {
		return groupRecord{}, false
	}
	v := kmsg.NewGroupMetadataValue()
	if v.ReadFrom(value) != nil {
		return groupRecord{}, false
	}
	return groupRecord{group: k.Group, value: v}, true
}

// Restore puts back a group with members as its last state record left
// it: Stable in that generation, each member's session starting now, so
// members that did not survive the restart expire and the group
// rebalances without them. The start then sets the group's floor to its
// reserved ceiling (SetGenerationFloor): generations up to it may have
// been handed out in joins whose sync never settled.
func (c *Coordinator) Restore(now time.Time, v *kmsg.GroupMetadataValue, group string) {
	if len(v.Members) == 0 || v.Protocol == nil {
		return
	}
	g := newClassicGroup(group, time.Time{})
	g.generation = v.Generation
	g.protocolType, g.protocol = v.ProtocolType, *v.Protocol
	for _, sm := range v.Members {
		m := &classicMember{
			id:               sm.MemberID,
			instanceID:       cloneString(sm.InstanceID),
			clientID:         sm.ClientID,
			clientHost:       sm.ClientHost,
			protocolType:     v.ProtocolType,
			protocols:        []Protocol{{Name: *v.Protocol, Metadata: bytes.Clone(sm.Subscription)}},
			sessionTimeout:   time.Duration(sm.SessionTimeoutMillis) * time.Millisecond,
			rebalanceTimeout: time.Duration(sm.RebalanceTimeoutMillis) * time.Millisecond,
			assignment:       bytes.Clone(sm.Assignment),
		}
		if sm.RebalanceTimeoutMillis < 0 { // a record of version 0 has none
			m.rebalanceTimeout = m.sessionTimeout
		}
		if m.assignment == nil {
			m.assignment = []byte{}
		}
		m.touch(now)
		g.add(m)
	}
	if v.Leader != nil && g.has(*v.Leader) {
		g.leader = *v.Leader
	}
	g.state, g.prevState = StateStable, StateStable
	c.groups[group] = g
}
