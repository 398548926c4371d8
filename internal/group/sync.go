package group

import (
	"bytes"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Sync handles SyncGroup. Followers in CompletingRebalance are parked until
// the leader's SyncGroup brings the assignment; the leader's call answers
// them all.
func (c *Coordinator) Sync(now time.Time, tok Token, req SyncRequest) []Reply {
	c.sync(now, tok, req)
	return c.drain()
}

func (c *Coordinator) sync(now time.Time, tok Token, req SyncRequest) {
	g := c.groups[req.Group]
	if g == nil {
		c.replySync(tok, SyncResponse{ErrorCode: kerr.UnknownMemberID.Code})
		return
	}
	if code := c.validateSync(g, req); code != errNone {
		c.replySync(tok, SyncResponse{ErrorCode: code})
		return
	}
	m := g.members[req.MemberID]
	switch g.state {
	case StatePreparingRebalance:
		c.replySync(tok, SyncResponse{ErrorCode: kerr.RebalanceInProgress.Code})
	case StateCompletingRebalance:
		c.completeSync(m, SyncResponse{ErrorCode: kerr.RebalanceInProgress.Code}) // superseded retry
		m.syncWaiting, m.syncTok = true, tok
		m.touch(now)
		delete(g.pendingSync, m.id)
		if g.isLeader(m.id) {
			c.applyAssignment(now, g, req.Assignments)
		}
	case StateStable:
		m.touch(now)
		delete(g.pendingSync, m.id)
		c.replySync(tok, c.syncedResponse(g, m))
	default: // Empty: no members to sync
		c.replySync(tok, SyncResponse{ErrorCode: kerr.UnknownMemberID.Code})
	}
}

// validateSync checks identity, generation and (v5+) protocol, in Kafka's
// order, so clients see the same error Kafka would give them.
func (c *Coordinator) validateSync(g *classicGroup, req SyncRequest) int16 {
	if code := g.validateMember(req.MemberID, req.InstanceID); code != errNone {
		return code
	}
	if req.Generation != g.generation {
		return kerr.IllegalGeneration.Code
	}
	if inconsistent(req.ProtocolType, g.protocolType) || inconsistent(req.Protocol, g.protocol) {
		return kerr.InconsistentGroupProtocol.Code
	}
	return errNone
}

// inconsistent: only a value that is present on both sides can disagree.
func inconsistent(got *string, have string) bool {
	return got != nil && have != "" && *got != have
}

// applyAssignment stores the leader's assignment, answers every parked
// SyncGroup and settles the group. Members the leader left out get an empty
// assignment; ids that are not members are ignored.
func (c *Coordinator) applyAssignment(now time.Time, g *classicGroup, assignments map[string][]byte) {
	g.each(func(m *classicMember) {
		m.assignment = bytes.Clone(assignments[m.id])
		if m.assignment == nil {
			m.assignment = []byte{}
		}
		if m.syncWaiting {
			m.touch(now)
			c.completeSync(m, c.syncedResponse(g, m))
		}
	})
	g.transition(StateStable, now)
	c.markStored(g)
}

func (c *Coordinator) syncedResponse(g *classicGroup, m *classicMember) SyncResponse {
	return SyncResponse{
		ProtocolType: g.protocolTypePtr(),
		Protocol:     g.protocolPtr(),
		Assignment:   bytes.Clone(m.assignment),
	}
}
