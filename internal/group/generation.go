package group

import (
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/recordbatch"
)

// Generations never go back, across restarts too. A member that rejoins
// with the partitions it owned (the cooperative protocol, KIP-429; after
// a restart, members of a rebalance that had not settled rejoin) says in which
// generation it owned them, and the group's leader gives a partition two
// members claim to the claim of the later generation. If the coordinator
// counted from 0 again after a restart, a member's claim from before it
// would look later than the claims of the members that joined since, and
// the leader would hand it back partitions that others had consumed and
// committed in the meantime: it goes on from its own old position, and a
// record is delivered twice, even to a consumer that commits before
// processing (at-most-once).
//
// So a group's generations are reserved in blocks in the offsets log:
// before a join answer hands out a generation past the reserved ceiling,
// the service writes a group metadata record (Kafka's format, key version
// 2) whose generation is a new ceiling, and waits for it to be durable.
// At the start, each group's next generation follows its last ceiling.
// One durable write per generationReserve rebalances, and one at a
// group's first rebalance in a broker's life.
const generationReserve = 1000

// newGroup makes an empty group whose generations start after its floor.
func (c *Coordinator) newGroup(id string, now time.Time) *classicGroup {
	g := newClassicGroup(id, now)
	g.generation, g.floor = c.floors[id], c.floors[id]
	return g
}

// SetGenerationFloor makes group's next generation exceed gen, now and
// whenever the group is created again: the start calls it with every
// group's reserved ceiling.
func (c *Coordinator) SetGenerationFloor(group string, gen int32) {
	c.floors[group] = max(c.floors[group], gen)
	if g, ok := c.groups[group]; ok {
		g.floor = max(g.floor, gen)
		if g.state == StateEmpty {
			g.generation = max(g.generation, gen)
		}
	}
}

// SetRecovering marks a group that had generations before this start
// but no stored state to restore (its first rebalance never settled, or
// its records come from a version that did not store members): its first
// rebalance waits for the members (recoveryDelay).
func (c *Coordinator) SetRecovering(group string) {
	c.recovering[group] = true
}

// nextCeiling is the ceiling reserved when gen passes the last one.
func nextCeiling(gen int32) int32 {
	if gen > math.MaxInt32-generationReserve {
		return math.MaxInt32
	}
	return gen + generationReserve
}

// encodeGeneration is the record that reserves generations up to ceiling
// for group: Kafka's group metadata record, with no members.
func encodeGeneration(group string, ceiling int32) recordbatch.Record {
	k := kmsg.NewGroupMetadataKey()
	k.Version, k.Group = groupKeyVersion, group
	v := kmsg.NewGroupMetadataValue()
	v.Version, v.Generation = groupValueVersion, ceiling
	return recordbatch.Record{Key: k.AppendTo(nil), Value: v.AppendTo(nil)}
}

const (
	groupKeyVersion   = 2
	groupValueVersion = 3
)

// recoveryDelay is how long the first rebalance of a recovering group
// (SetRecovering) waits for its members: the longest session timeout of
// the members joined so far. Its members were not restored
// (stored_group.go), so they learn of the restart from UNKNOWN_MEMBER_ID
// at their next heartbeat or commit, and rejoin with the partitions they
// owned; a generation formed by the first to rejoin would take the
// partitions of those that have not yet, which go on consuming them until
// they rejoin and learn of it, and a record is delivered twice. A live
// member heartbeats within its session timeout, so by then it has
// rejoined, and the leader sees every claim.
func (c *Coordinator) recoveryDelay(g *classicGroup) time.Duration {
	if !c.recovering[g.id] {
		return 0
	}
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.sessionTimeout)
	}
	return d
}
