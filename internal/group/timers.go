package group

import (
	"slices"
	"time"
)

// Tick runs every timer that is due at now: KIP-394 pending ids and member
// sessions that expired, rebalance and initial-delay timers, and the
// pending-sync timer. Call it at NextDeadline. A timer fires when now is at
// or past its deadline, never before.
func (c *Coordinator) Tick(now time.Time) []Reply {
	for _, g := range c.sortedGroups() {
		c.tickGroup(now, g)
	}
	return c.drain()
}

// tickGroup makes one pass over a group's timers. Work a timer schedules
// for the same instant waits for the next Tick; NextDeadline reports it.
func (c *Coordinator) tickGroup(now time.Time, g *classicGroup) {
	for _, id := range sortedPending(g) {
		if at, ok := g.pending[id]; ok && !now.Before(at) {
			c.removePending(now, g, id)
		}
	}
	g.each(func(m *classicMember) {
		if g.has(m.id) && m.canExpire() && !now.Before(m.deadline) {
			c.removeMember(now, g, m)
		}
	})
	if g.state == StatePreparingRebalance && !g.joinDeadline.IsZero() && !now.Before(g.joinDeadline) {
		c.fireJoinTimer(now, g)
	}
	if !g.syncDeadline.IsZero() && !now.Before(g.syncDeadline) {
		c.expirePendingSync(now, g)
	}
}

func sortedPending(g *classicGroup) []string {
	ids := make([]string, 0, len(g.pending))
	for id := range g.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// NextDeadline is the earliest time Tick has work; false if none.
func (c *Coordinator) NextDeadline() (time.Time, bool) {
	var next time.Time
	found := false
	consider := func(t time.Time) {
		if !t.IsZero() && (!found || t.Before(next)) {
			next, found = t, true
		}
	}
	for _, g := range c.groups {
		for _, at := range g.pending {
			consider(at)
		}
		for _, m := range g.members {
			if m.canExpire() {
				consider(m.deadline)
			}
		}
		if g.state == StatePreparingRebalance {
			consider(g.joinDeadline)
		}
		consider(g.syncDeadline)
	}
	return next, found
}
