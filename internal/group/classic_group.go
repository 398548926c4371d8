package group

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// classicGroup is one group's membership. Members are kept in join order so
// that everything derived from iteration (replies, leader fallback, the
// leader's member list) is deterministic.
type classicGroup struct {
	id         string
	state      string
	prevState  string
	generation int32
	// floor is a generation the next must exceed: the ceiling reserved
	// before this start (generation.go).
	floor        int32
	protocolType string // "" until a member joins; kept when the group empties
	protocol     string // "" unless CompletingRebalance or Stable
	leader       string

	members map[string]*classicMember
	order   []string
	static  map[string]string // instance id -> member id (KIP-345)
	// pending holds member ids handed out with MEMBER_ID_REQUIRED and their
	// expiry: they are not members until they rejoin (KIP-394).
	pending map[string]time.Time
	// pendingSync holds members that got a JoinGroup response for this
	// generation but have not sent SyncGroup yet.
	pendingSync map[string]bool

	joinDeadline time.Time // rebalance timer while PreparingRebalance; zero if none
	syncDeadline time.Time // pending-sync timer; zero if none
	initial      initialDelay

	emptySince time.Time // when the group last became Empty (KIP-211); zero if unknown
}

// initialDelay is Kafka's delayed initial join: the first rebalance of an
// Empty group waits so that a fleet of consumers starting together gets one
// rebalance, not one per member.
type initialDelay struct {
	active         bool
	delay          time.Duration
	remaining      time.Duration
	newMemberAdded bool
}

func newClassicGroup(id string, now time.Time) *classicGroup {
	return &classicGroup{
		id:          id,
		state:       StateEmpty,
		prevState:   StateEmpty,
		members:     map[string]*classicMember{},
		static:      map[string]string{},
		pending:     map[string]time.Time{},
		pendingSync: map[string]bool{},
		emptySince:  now,
	}
}

func (g *classicGroup) transition(state string, now time.Time) {
	g.prevState, g.state = g.state, state
	if state == StateEmpty {
		g.emptySince = now
	}
}

func (g *classicGroup) has(id string) bool { _, ok := g.members[id]; return ok }

// isPending: a pending id that somehow became a member is a member.
func (g *classicGroup) isPending(id string) bool {
	_, ok := g.pending[id]
	return ok && !g.has(id)
}

func (g *classicGroup) isLeader(id string) bool { return id != "" && g.leader == id }

func (g *classicGroup) add(m *classicMember) {
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	g.members[m.id] = m
	g.order = append(g.order, m.id)
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
	delete(g.pending, m.id)
	if g.leader == "" {
		g.leader = m.id
	}
}

// remove forgets a member everywhere; a removed leader is replaced by the
// oldest remaining member.
func (g *classicGroup) remove(id string) {
	if m, ok := g.members[id]; ok {
		if m.instanceID != nil && g.static[*m.instanceID] == id {
			delete(g.static, *m.instanceID)
		}
		delete(g.members, id)
		g.order = slices.DeleteFunc(g.order, func(s string) bool { return s == id })
	}
	delete(g.pending, id)
	delete(g.pendingSync, id)
	if g.leader == id {
		g.leader = ""
		if len(g.order) > 0 {
			g.leader = g.order[0]
		}
	}
}

// rename gives a static member its new member id (KIP-345), keeping its
// place, its leadership and its assignment.
func (g *classicGroup) rename(oldID, newID string) *classicMember {
	m := g.members[oldID]
	delete(g.members, oldID)
	m.id = newID
	g.members[newID] = m
	g.order[slices.Index(g.order, oldID)] = newID
	if m.instanceID != nil {
		g.static[*m.instanceID] = newID
	}
	if g.leader == oldID {
		g.leader = newID
	}
	if g.pendingSync[oldID] {
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = true
	}
	return m
}

func (g *classicGroup) each(f func(*classicMember)) {
	for _, id := range slices.Clone(g.order) {
		if m, ok := g.members[id]; ok {
			f(m)
		}
	}
}

func (g *classicGroup) numAwaitingJoin() int {
	n := 0
	for _, m := range g.members {
		if m.joinWaiting {
			n++
		}
	}
	return n
}

// allJoined: every member rejoined and no MEMBER_ID_REQUIRED member is
// still on its way back (KIP-394), so the rebalance need not wait longer.
func (g *classicGroup) allJoined() bool {
	return g.numAwaitingJoin() == len(g.members) && len(g.pending) == 0
}

// rebalanceTimeout is the longest any member asked for.
func (g *classicGroup) rebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// supportsProtocols: an Empty group takes any non-empty protocol type and
// protocol list; otherwise the type must match and at least one protocol
// must be supported by every current member.
func (g *classicGroup) supportsProtocols(protocolType string, protocols []Protocol) bool {
	if g.state == StateEmpty {
		return protocolType != "" && len(protocols) > 0
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range protocols {
		if g.allSupport(p.Name) {
			return true
		}
	}
	return false
}

func (g *classicGroup) allSupport(name string) bool {
	for _, m := range g.members {
		if !m.hasProtocol(name) {
			return false
		}
	}
	return true
}

// selectProtocol picks, among protocols every member supports, the one
// most members prefer: each member votes for its first such protocol.
// Ties go to the protocol first in the oldest member's preference list,
// which makes the choice deterministic (Kafka leaves ties to map order).
func (g *classicGroup) selectProtocol() string {
	votes := map[string]int{}
	g.each(func(m *classicMember) {
		for _, p := range m.protocols {
			if g.allSupport(p.Name) {
				votes[p.Name]++
				return
			}
		}
	})
	best, bestVotes := "", 0
	g.each(func(m *classicMember) {
		for _, p := range m.protocols {
			if votes[p.Name] > bestVotes {
				best, bestVotes = p.Name, votes[p.Name]
			}
		}
	})
	return best
}

// electJoinedLeader keeps the leader if it rejoined, else promotes the
// oldest member that did; false if no member rejoined.
func (g *classicGroup) electJoinedLeader() bool {
	if m, ok := g.members[g.leader]; ok && m.joinWaiting {
		return true
	}
	for _, id := range g.order {
		if g.members[id].joinWaiting {
			g.leader = id
			return true
		}
	}
	return false
}

// isFenced: the instance id belongs to another member id (KIP-345).
func (g *classicGroup) isFenced(instanceID *string, memberID string) bool {
	if instanceID == nil {
		return false
	}
	id, ok := g.static[*instanceID]
	return ok && id != memberID
}

// validateMember is the identity check shared by SyncGroup, Heartbeat and
// OffsetCommit: a static member must be the current holder of its instance
// id, and the member id must be known.
func (g *classicGroup) validateMember(memberID string, instanceID *string) int16 {
	if instanceID != nil {
		id, ok := g.static[*instanceID]
		if !ok {
			return kerr.UnknownMemberID.Code
		}
		if id != memberID {
			return kerr.FencedInstanceID.Code
		}
	}
	if !g.has(memberID) {
		return kerr.UnknownMemberID.Code
	}
	return errNone
}

func (g *classicGroup) protocolTypePtr() *string { return strPtr(g.protocolType) }
func (g *classicGroup) protocolPtr() *string     { return strPtr(g.protocol) }

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
