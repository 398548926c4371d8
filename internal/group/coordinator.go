package group

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"time"
)

// Coordinator runs the classic group protocol for many groups. It is not
// safe for concurrent use: the I/O loop that owns it serialises calls.
type Coordinator struct {
	cfg         Config
	newMemberID func(string) string
	groups      map[string]*classicGroup
	// floors are generations a group's next must exceed, whether or not
	// the group exists now: the ones handed out before a restart
	// (generation.go).
	floors map[string]int32
	// recovering are the groups that had generations before this start
	// and have not formed one since (recoveryDelay).
	recovering map[string]bool
	// stored are the groups whose state record must be written before
	// the replies of the current call go out (stored_group.go).
	stored []string
	// out collects the replies that became ready during one call; every
	// exported call that can produce replies drains it before returning.
	out []Reply
}

// NewCoordinator returns a coordinator with no groups. newMemberID makes a
// member id from the client id (dynamic members) or the group instance id
// (static members), as Kafka does; nil means "<that>-<random uuid-ish hex>".
func NewCoordinator(cfg Config, newMemberID func(clientID string) string) *Coordinator {
	if newMemberID == nil {
		newMemberID = randomMemberID
	}
	return &Coordinator{cfg: cfg.withDefaults(), newMemberID: newMemberID, groups: map[string]*classicGroup{}, floors: map[string]int32{}, recovering: map[string]bool{}}
}

func randomMemberID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	h := hex.EncodeToString(b[:])
	return prefix + "-" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// memberIDFor follows Kafka: a static member's id is derived from its
// instance id, a dynamic member's from its client id.
func (c *Coordinator) memberIDFor(req JoinRequest) string {
	if req.InstanceID != nil {
		return c.newMemberID(*req.InstanceID)
	}
	return c.newMemberID(req.ClientID)
}

func (c *Coordinator) drain() []Reply {
	out := c.out
	c.out = nil
	return out
}

func (c *Coordinator) replyJoin(tok Token, r JoinResponse) {
	c.out = append(c.out, Reply{Token: tok, Join: &r})
}

func (c *Coordinator) replySync(tok Token, r SyncResponse) {
	c.out = append(c.out, Reply{Token: tok, Sync: &r})
}

func (c *Coordinator) joinError(tok Token, code int16, memberID string) {
	c.replyJoin(tok, JoinResponse{ErrorCode: code, Generation: -1, MemberID: memberID})
}

// completeJoin answers a member's parked JoinGroup, if any.
func (c *Coordinator) completeJoin(m *classicMember, r JoinResponse) {
	if !m.joinWaiting {
		return
	}
	m.joinWaiting = false
	c.replyJoin(m.joinTok, r)
}

// completeSync answers a member's parked SyncGroup, if any.
func (c *Coordinator) completeSync(m *classicMember, r SyncResponse) {
	if !m.syncWaiting {
		return
	}
	m.syncWaiting = false
	c.replySync(m.syncTok, r)
}

// sortedGroups gives a deterministic order for work across groups.
func (c *Coordinator) sortedGroups() []*classicGroup {
	ids := make([]string, 0, len(c.groups))
	for id := range c.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	gs := make([]*classicGroup, len(ids))
	for i, id := range ids {
		gs[i] = c.groups[id]
	}
	return gs
}

// Touch makes sure a group exists, Empty if new: a simple consumer
// committed offsets, or offsets were loaded at start-up. Its empty-since
// time is unknown (zero), so offset expiry falls back to commit times.
func (c *Coordinator) Touch(group string) {
	if _, ok := c.groups[group]; !ok {
		c.groups[group] = c.newGroup(group, time.Time{})
	}
}
