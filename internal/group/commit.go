package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// CommitAllowed validates an OffsetCommit against the group and returns 0
// or the exact Kafka error. It does not create the group: after a
// successful commit for an unknown group the caller calls Touch.
//
// Kafka's rules: generation -1 marks a commit from outside group
// management (admin client, manual assignment), allowed only while the
// group is Empty. Anything else must come from the current holder of the
// member id (and instance id) in the current generation, and not while
// the member is between JoinGroup and SyncGroup, when its assignment is not
// final. PreparingRebalance is allowed: eager consumers commit before they
// rejoin.
func (c *Coordinator) CommitAllowed(now time.Time, group, memberID string, instanceID *string, generation int32) int16 {
	g := c.groups[group]
	if g == nil {
		if generation < 0 {
			return errNone
		}
		// OffsetCommit v9+ would say GROUP_ID_NOT_FOUND; earlier versions
		// say ILLEGAL_GENERATION, which every version's clients handle.
		return kerr.IllegalGeneration.Code
	}
	if generation < 0 && g.state == StateEmpty {
		return errNone
	}
	if generation >= 0 || memberID != "" || instanceID != nil {
		if code := g.validateMember(memberID, instanceID); code != errNone {
			return code
		}
		if generation != g.generation {
			return kerr.IllegalGeneration.Code
		}
	} else if g.state != StateEmpty {
		return kerr.UnknownMemberID.Code
	}
	if g.state == StateCompletingRebalance {
		return kerr.RebalanceInProgress.Code
	}
	if m, ok := g.members[memberID]; ok {
		m.touch(now) // a commit is as good as a heartbeat
	}
	return errNone
}

// TxnCommitAllowed validates a TxnOffsetCommit (KIP-447): a request that
// names a member or a generation must come from a current member of the
// current generation, so a zombie consumer that was rebalanced away cannot
// commit; one that names neither (older clients) is fenced only by its
// producer epoch, which the offsets log checks.
func (c *Coordinator) TxnCommitAllowed(group, memberID string, instanceID *string, generation int32) int16 {
	g := c.groups[group]
	if g == nil {
		if memberID != "" || generation >= 0 {
			return kerr.IllegalGeneration.Code
		}
		return errNone
	}
	if instanceID != nil || memberID != "" {
		if code := g.validateMember(memberID, instanceID); code != errNone {
			return code
		}
	}
	if generation >= 0 && generation != g.generation {
		return kerr.IllegalGeneration.Code
	}
	return errNone
}
