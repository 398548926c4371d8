package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Join handles JoinGroup. It returns the replies that became ready: maybe
// this request's own, maybe other members' parked joins (this join may be
// the last one a rebalance waited for), maybe none (this join is parked).
func (c *Coordinator) Join(now time.Time, tok Token, req JoinRequest) []Reply {
	c.join(now, tok, req)
	return c.drain()
}

func (c *Coordinator) join(now time.Time, tok Token, req JoinRequest) {
	if req.Group == "" {
		c.joinError(tok, kerr.InvalidGroupID.Code, req.MemberID)
		return
	}
	if req.SessionTimeout < c.cfg.MinSessionTimeout || req.SessionTimeout > c.cfg.MaxSessionTimeout {
		c.joinError(tok, kerr.InvalidSessionTimeout.Code, req.MemberID)
		return
	}
	g := c.groups[req.Group]
	if g == nil {
		// Only a member without an id may create a group; a member id for
		// a group we do not know must be reset by the client.
		if req.MemberID != "" {
			c.joinError(tok, kerr.UnknownMemberID.Code, req.MemberID)
			return
		}
		// Refuse before creating, so a bad request leaves no empty group.
		if req.ProtocolType == "" || len(req.Protocols) == 0 {
			c.joinError(tok, kerr.InconsistentGroupProtocol.Code, req.MemberID)
			return
		}
		g = c.newGroup(req.Group, now)
		c.groups[req.Group] = g
	}
	if !c.acceptJoiningMember(g, req.MemberID) {
		if m, ok := g.members[req.MemberID]; ok {
			c.removeMember(now, g, m)
		} else {
			c.removePending(now, g, req.MemberID)
		}
		c.joinError(tok, kerr.GroupMaxSizeReached.Code, "")
		return
	}
	if req.MemberID == "" {
		c.joinNewMember(now, tok, g, req)
		return
	}
	c.joinKnownMember(now, tok, g, req)
}

// acceptJoiningMember enforces group.max.size. While rebalancing, the
// number of members already rejoined is what counts: the group size may be
// above the limit (it was lowered), and counting the rejoined lets the last
// ones to rejoin be the ones turned away.
func (c *Coordinator) acceptJoiningMember(g *classicGroup, memberID string) bool {
	if c.cfg.MaxSize <= 0 {
		return true
	}
	m, known := g.members[memberID]
	switch g.state {
	case StatePreparingRebalance:
		return (known && m.joinWaiting) || g.numAwaitingJoin() < c.cfg.MaxSize
	case StateCompletingRebalance, StateStable:
		return known || len(g.members) < c.cfg.MaxSize
	default: // Empty: the first join always gets in
		return true
	}
}

func (c *Coordinator) joinNewMember(now time.Time, tok Token, g *classicGroup, req JoinRequest) {
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		c.joinError(tok, kerr.InconsistentGroupProtocol.Code, req.MemberID)
		return
	}
	id := c.memberIDFor(req)
	switch {
	case req.InstanceID != nil:
		// Static members skip the MEMBER_ID_REQUIRED round trip: their
		// instance id already identifies them (KIP-345).
		if old, ok := g.static[*req.InstanceID]; ok {
			c.replaceStaticMember(now, tok, g, old, id, req)
			return
		}
		c.addMemberAndRebalance(now, tok, g, id, req)
	case req.RequireKnownMemberID:
		// KIP-394: hand out the id and wait for the member to come back
		// with it, so retries after a lost response do not pile up
		// members. The id is forgotten after one session timeout.
		g.pending[id] = now.Add(req.SessionTimeout)
		c.joinError(tok, kerr.MemberIDRequired.Code, id)
	default:
		c.addMemberAndRebalance(now, tok, g, id, req)
	}
}

func (c *Coordinator) joinKnownMember(now time.Time, tok Token, g *classicGroup, req JoinRequest) {
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		c.joinError(tok, kerr.InconsistentGroupProtocol.Code, req.MemberID)
		return
	}
	if req.InstanceID == nil && g.isPending(req.MemberID) {
		c.addMemberAndRebalance(now, tok, g, req.MemberID, req)
		return
	}
	if g.isFenced(req.InstanceID, req.MemberID) {
		c.joinError(tok, kerr.FencedInstanceID.Code, req.MemberID)
		return
	}
	m, ok := g.members[req.MemberID]
	if !ok || (req.InstanceID != nil && g.static[*req.InstanceID] != req.MemberID) {
		c.joinError(tok, kerr.UnknownMemberID.Code, req.MemberID)
		return
	}
	m.touch(now)
	switch g.state {
	case StatePreparingRebalance:
		c.updateMemberAndRebalance(now, tok, g, m, req)
	case StateCompletingRebalance:
		if !m.matches(req.Protocols) {
			c.updateMemberAndRebalance(now, tok, g, m, req)
			return
		}
		// Same metadata: most likely the member lost our response. Give
		// the same answer again.
		c.replyJoin(tok, c.joinedResponse(g, m, g.isLeader(m.id)))
	case StateStable:
		// A leader's rejoin forces a rebalance: it is how the leader asks
		// for a new assignment after changes the metadata does not show
		// (new partitions, for consumers).
		if g.isLeader(m.id) || !m.matches(req.Protocols) {
			c.updateMemberAndRebalance(now, tok, g, m, req)
			return
		}
		c.replyJoin(tok, c.joinedResponse(g, m, false))
	default: // Empty: members cannot exist; let the client start over
		c.joinError(tok, kerr.UnknownMemberID.Code, req.MemberID)
	}
}

func (c *Coordinator) addMemberAndRebalance(now time.Time, tok Token, g *classicGroup, id string, req JoinRequest) {
	m := newClassicMember(id, req)
	m.deadline = now.Add(newMemberJoinTimeout)
	m.joinWaiting, m.joinTok = true, tok
	g.add(m)
	if g.state == StatePreparingRebalance && g.prevState == StateEmpty {
		g.initial.newMemberAdded = true
	}
	c.maybePrepareRebalanceOrCompleteJoin(now, g)
}

func (c *Coordinator) updateMemberAndRebalance(now time.Time, tok Token, g *classicGroup, m *classicMember, req JoinRequest) {
	c.park(m, tok, req)
	c.maybePrepareRebalanceOrCompleteJoin(now, g)
}

// park records a rejoin and parks its request. A join the member already
// had parked is superseded (the client retried, likely on a new
// connection): it is answered REBALANCE_IN_PROGRESS so no token is left
// without a reply.
func (c *Coordinator) park(m *classicMember, tok Token, req JoinRequest) {
	c.completeJoin(m, JoinResponse{ErrorCode: kerr.RebalanceInProgress.Code, Generation: -1, MemberID: m.id})
	m.update(req)
	m.joinWaiting, m.joinTok = true, tok
}

// replaceStaticMember handles a static member that restarted: it joins
// with its instance id and no member id (KIP-345). It takes over the old
// member's place, leadership and assignment under a new member id; the old
// id is fenced. In a Stable group whose protocol would not change, there is
// no rebalance at all: that is the point of static membership.
func (c *Coordinator) replaceStaticMember(now time.Time, tok Token, g *classicGroup, oldID, newID string, req JoinRequest) {
	oldLeader := g.leader
	old := g.members[oldID]
	// Anyone still waiting under the old id is a zombie duplicate.
	c.completeJoin(old, JoinResponse{ErrorCode: kerr.FencedInstanceID.Code, Generation: -1, MemberID: oldID})
	c.completeSync(old, SyncResponse{ErrorCode: kerr.FencedInstanceID.Code})
	m := g.rename(oldID, newID)
	m.update(req)
	m.touch(now)
	switch g.state {
	case StateStable:
		if g.selectProtocol() != g.protocol {
			c.park(m, tok, req)
			c.prepareRebalance(now, g)
			return
		}
		c.replyJoin(tok, c.staticRejoinResponse(g, m, oldLeader, req))
		c.markStored(g)
	case StateCompletingRebalance:
		// The leader may already be computing an assignment for the old
		// member id, which the new id would never receive: rebalance.
		c.park(m, tok, req)
		c.prepareRebalance(now, g)
	default: // PreparingRebalance: wait with everyone else
		c.park(m, tok, req)
		c.maybeCompleteJoinPhase(now, g)
	}
}

// staticRejoinResponse answers a replaced static member in a Stable group
// without a rebalance. A leader is told it leads but must skip the
// assignment (KIP-814); clients too old for SkipAssignment are told the
// old leader id instead, so they act as followers.
func (c *Coordinator) staticRejoinResponse(g *classicGroup, m *classicMember, oldLeader string, req JoinRequest) JoinResponse {
	r := c.joinedResponse(g, m, false)
	if !g.isLeader(m.id) {
		return r
	}
	if req.SkipAssignmentUnsupported {
		r.LeaderID = oldLeader
		return r
	}
	r.Members = g.joinMembers()
	r.SkipAssignment = true
	return r
}
