package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Leave handles LeaveGroup. Members are named by member id, or, by
// administrators, by instance id alone (KIP-345). Each gets its own code;
// topLevel is 0 even for an unknown group, as in Kafka, where every member
// is then UNKNOWN_MEMBER_ID.
func (c *Coordinator) Leave(now time.Time, group string, members []LeaveMember) (topLevel int16, perMember []int16, replies []Reply) {
	perMember = make([]int16, len(members))
	g := c.groups[group]
	for i, lm := range members {
		if g == nil {
			perMember[i] = kerr.UnknownMemberID.Code
			continue
		}
		perMember[i] = c.leaveOne(now, g, lm)
	}
	return errNone, perMember, c.drain()
}

func (c *Coordinator) leaveOne(now time.Time, g *classicGroup, lm LeaveMember) int16 {
	if lm.MemberID == "" {
		if lm.InstanceID == nil {
			return kerr.UnknownMemberID.Code
		}
		id, ok := g.static[*lm.InstanceID]
		if !ok {
			return kerr.UnknownMemberID.Code
		}
		c.removeMember(now, g, g.members[id])
		return errNone
	}
	if g.isPending(lm.MemberID) {
		c.removePending(now, g, lm.MemberID)
		return errNone
	}
	if g.isFenced(lm.InstanceID, lm.MemberID) {
		return kerr.FencedInstanceID.Code
	}
	m, ok := g.members[lm.MemberID]
	if !ok {
		return kerr.UnknownMemberID.Code
	}
	c.removeMember(now, g, m)
	return errNone
}
