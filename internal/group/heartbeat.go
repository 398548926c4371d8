package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Heartbeat handles a classic Heartbeat and returns its error code. It
// keeps the member's session alive, and tells it to rejoin while the group
// is rebalancing.
func (c *Coordinator) Heartbeat(now time.Time, group, memberID string, instanceID *string, generation int32) int16 {
	g := c.groups[group]
	if g == nil {
		return kerr.UnknownMemberID.Code
	}
	if code := g.validateMember(memberID, instanceID); code != errNone {
		return code
	}
	if generation != g.generation {
		return kerr.IllegalGeneration.Code
	}
	m := g.members[memberID]
	switch g.state {
	case StatePreparingRebalance:
		m.touch(now)
		return kerr.RebalanceInProgress.Code
	case StateCompletingRebalance, StateStable:
		// Clients may heartbeat between JoinGroup and SyncGroup: that is
		// a normal heartbeat.
		m.touch(now)
		return errNone
	default:
		return kerr.UnknownMemberID.Code
	}
}
