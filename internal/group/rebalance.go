package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// canRebalance: a rebalance starts from any state but PreparingRebalance
// (already rebalancing) and Dead.
func (g *classicGroup) canRebalance() bool {
	return g.state == StateEmpty || g.state == StateStable || g.state == StateCompletingRebalance
}

func (c *Coordinator) maybePrepareRebalance(now time.Time, g *classicGroup) {
	if g.canRebalance() {
		c.prepareRebalance(now, g)
	}
}

// maybePrepareRebalanceOrCompleteJoin is what every join that changes the
// membership ends with: start a rebalance, or, if one is running, see
// whether this join was the last one it waited for.
func (c *Coordinator) maybePrepareRebalanceOrCompleteJoin(now time.Time, g *classicGroup) {
	if g.canRebalance() {
		c.prepareRebalance(now, g)
		return
	}
	c.maybeCompleteJoinPhase(now, g)
}

// prepareRebalance moves the group to PreparingRebalance. Members parked in
// SyncGroup are told to rejoin; their assignments are void.
func (c *Coordinator) prepareRebalance(now time.Time, g *classicGroup) {
	if g.state == StateCompletingRebalance {
		g.each(func(m *classicMember) {
			m.assignment = nil
			c.completeSync(m, SyncResponse{ErrorCode: kerr.RebalanceInProgress.Code})
		})
	}
	g.syncDeadline = time.Time{}
	initial := g.state == StateEmpty
	g.transition(StatePreparingRebalance, now)
	if initial {
		c.startInitialDelay(now, g)
		return
	}
	if g.allJoined() {
		c.completeJoinPhase(now, g)
		return
	}
	g.joinDeadline = now.Add(g.rebalanceTimeout())
}

// startInitialDelay arms Kafka's delayed initial join: wait
// InitialRebalanceDelay, and again while new members keep arriving, but no
// longer in total than the rebalance timeout.
func (c *Coordinator) startInitialDelay(now time.Time, g *classicGroup) {
	delay := max(c.cfg.InitialRebalanceDelay, c.recoveryDelay(g))
	g.initial = initialDelay{active: true, delay: delay, remaining: max(g.rebalanceTimeout()-delay, 0)}
	g.joinDeadline = now.Add(delay)
	if delay == 0 {
		// Nothing to wait for: complete now rather than leave a timer due
		// at once, so a lone member's first join is answered by its call.
		c.fireJoinTimer(now, g)
	}
}

// fireJoinTimer runs when joinDeadline passes.
func (c *Coordinator) fireJoinTimer(now time.Time, g *classicGroup) {
	if !g.initial.active {
		c.completeJoinPhase(now, g)
		return
	}
	in := &g.initial
	if in.newMemberAdded && in.remaining != 0 {
		// Kafka's arithmetic: the next wait is capped by what remains, and
		// what remains shrinks by the wait that just ended.
		in.newMemberAdded = false
		next := min(c.cfg.InitialRebalanceDelay, in.remaining)
		in.remaining = max(in.remaining-in.delay, 0)
		in.delay = next
		g.joinDeadline = now.Add(next)
		return
	}
	c.completeJoinPhase(now, g)
}

// maybeCompleteJoinPhase completes a rebalance once everyone rejoined,
// except the initial one, which always waits out its delay.
func (c *Coordinator) maybeCompleteJoinPhase(now time.Time, g *classicGroup) {
	if g.state == StatePreparingRebalance && g.allJoined() && g.prevState != StateEmpty {
		c.completeJoinPhase(now, g)
	}
}

// completeJoinPhase ends PreparingRebalance: dynamic members that did not
// rejoin are dropped (static ones stay until their session times out,
// KIP-345), the generation advances and every parked join is answered.
func (c *Coordinator) completeJoinPhase(now time.Time, g *classicGroup) {
	g.joinDeadline = time.Time{}
	g.initial = initialDelay{}
	g.each(func(m *classicMember) {
		if !m.joinWaiting && m.instanceID == nil {
			g.remove(m.id)
		}
	})
	if !g.electJoinedLeader() && len(g.members) > 0 {
		// Only static members that did not rejoin are left: wait another
		// rebalance timeout, by which their sessions may have expired.
		g.joinDeadline = now.Add(g.rebalanceTimeout())
		return
	}
	c.initNextGeneration(now, g)
	if g.state == StateEmpty {
		return
	}
	g.each(func(m *classicMember) {
		c.completeJoin(m, c.joinedResponse(g, m, g.isLeader(m.id)))
		m.touch(now)
		m.isNew = false
		g.pendingSync[m.id] = true
	})
	// Members that got their generation but never sync are removed when
	// this passes, so a stuck follower cannot hold the group forever.
	g.syncDeadline = now.Add(g.rebalanceTimeout())
}

func (c *Coordinator) initNextGeneration(now time.Time, g *classicGroup) {
	g.generation = max(g.generation, g.floor) + 1
	delete(c.recovering, g.id)
	clear(g.pendingSync)
	if len(g.members) == 0 {
		g.protocol = ""
		g.transition(StateEmpty, now)
		c.markStored(g)
		return
	}
	g.protocol = g.selectProtocol()
	g.transition(StateCompletingRebalance, now)
}

// joinedResponse is the successful JoinGroup answer for the current
// generation; the leader also gets every member's metadata.
func (c *Coordinator) joinedResponse(g *classicGroup, m *classicMember, withMembers bool) JoinResponse {
	r := JoinResponse{
		Generation:   g.generation,
		ProtocolType: g.protocolTypePtr(),
		Protocol:     g.protocolPtr(),
		LeaderID:     g.leader,
		MemberID:     m.id,
	}
	if withMembers {
		r.Members = g.joinMembers()
	}
	return r
}

func (g *classicGroup) joinMembers() []JoinMember {
	out := make([]JoinMember, 0, len(g.members))
	g.each(func(m *classicMember) {
		out = append(out, JoinMember{MemberID: m.id, InstanceID: cloneString(m.instanceID), Metadata: m.metadata(g.protocol)})
	})
	return out
}

// removeMember drops a member (left, expired, fenced by size) and lets the
// group react: a settled group rebalances, a rebalancing one may now be
// complete. A parked join is answered UNKNOWN_MEMBER_ID so a live client
// rejoins from scratch.
func (c *Coordinator) removeMember(now time.Time, g *classicGroup, m *classicMember) {
	c.completeJoin(m, JoinResponse{ErrorCode: kerr.UnknownMemberID.Code, Generation: -1})
	c.completeSync(m, SyncResponse{ErrorCode: kerr.UnknownMemberID.Code})
	g.remove(m.id)
	switch g.state {
	case StateStable, StateCompletingRebalance:
		c.maybePrepareRebalance(now, g)
	case StatePreparingRebalance:
		c.maybeCompleteJoinPhase(now, g)
	}
}

func (c *Coordinator) removePending(now time.Time, g *classicGroup, id string) {
	delete(g.pending, id)
	if g.state == StatePreparingRebalance {
		c.maybeCompleteJoinPhase(now, g)
	}
}

// expirePendingSync removes the members that were given a generation but
// did not send SyncGroup within the rebalance timeout, then rebalances.
func (c *Coordinator) expirePendingSync(now time.Time, g *classicGroup) {
	g.syncDeadline = time.Time{}
	if len(g.pendingSync) == 0 || (g.state != StateCompletingRebalance && g.state != StateStable) {
		return
	}
	g.each(func(m *classicMember) {
		if g.pendingSync[m.id] {
			g.remove(m.id)
		}
	})
	c.prepareRebalance(now, g)
}
