package group

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestStaticFollowerRestartWithoutRebalance(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	ids := h.stableStatic("g", []string{"a", "b", "c"})
	a, oldB := ids[0], ids[1]

	r := h.joinOK(h.join(cgJoinReq("g", "", "b", withInstance("i-b"))), 1, a)
	newB := r.MemberID
	if newB == oldB || r.SkipAssignment {
		t.Fatalf("restart reply %+v", r)
	}
	h.state("g", StateStable)
	if got := h.members("g"); !slices.Equal(got, []string{a, newB, ids[2]}) {
		t.Fatalf("members %v", got)
	}
	// The restarted member gets its previous assignment back.
	h.syncAssigned(h.sync(SyncRequest{Group: "g", MemberID: newB, InstanceID: cgStr("i-b"), Generation: 1}), "asg-b")

	// The old incarnation is fenced everywhere.
	fenced := kerr.FencedInstanceID.Code
	h.wantCode("heartbeat", h.c.Heartbeat(h.now, "g", oldB, cgStr("i-b"), 1), fenced)
	h.syncErr(h.sync(SyncRequest{Group: "g", MemberID: oldB, InstanceID: cgStr("i-b"), Generation: 1}), fenced)
	h.wantCode("commit", h.c.CommitAllowed(h.now, "g", oldB, cgStr("i-b"), 1), fenced)
	h.joinErr(h.join(cgJoinReq("g", oldB, "b", withInstance("i-b"))), fenced)
	if per := h.leave("g", LeaveMember{MemberID: oldB, InstanceID: cgStr("i-b")}); per[0] != fenced {
		t.Fatalf("leave %v", per)
	}
	// Without its instance id, the old member id is simply unknown.
	h.wantCode("heartbeat no instance", h.hb("g", oldB, 1), kerr.UnknownMemberID.Code)
	h.state("g", StateStable)
	h.noReplies()
}

func TestStaticLeaderRestartSkipsAssignment(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	ids := h.stableStatic("g", []string{"a", "b"})
	r := h.joinReply(h.join(cgJoinReq("g", "", "a", withInstance("i-a"))))
	if r.ErrorCode != 0 || r.Generation != 1 || r.LeaderID != r.MemberID || !r.SkipAssignment || len(r.Members) != 2 {
		t.Fatalf("leader restart reply %+v", r)
	}
	if r.Members[0].MemberID != r.MemberID || *r.Members[0].InstanceID != "i-a" || r.Members[1].MemberID != ids[1] {
		t.Fatalf("members %+v", r.Members)
	}
	h.state("g", StateStable)
	h.syncAssigned(h.sync(SyncRequest{Group: "g", MemberID: r.MemberID, Generation: 1, Assignments: map[string][]byte{r.MemberID: []byte("ignored")}}), "asg-a")

	// JoinGroup v0-8 cannot skip: the client is told the old leader id so
	// it does not compute an assignment.
	prev := r.MemberID
	old := h.joinReply(h.join(cgJoinReq("g", "", "a", withInstance("i-a"), func(r *JoinRequest) { r.SkipAssignmentUnsupported = true })))
	if old.ErrorCode != 0 || old.LeaderID != prev || old.MemberID == prev || old.SkipAssignment || old.Members != nil {
		t.Fatalf("v8 leader restart reply %+v", old)
	}
	h.state("g", StateStable)
}

func TestStaticRestartWithNewProtocolRebalances(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	ids := h.stableStatic("g", []string{"a", "b"})
	// b now prefers sticky, which a does not support: the vote still
	// picks range, so the restart needs no rebalance.
	tb := h.join(cgJoinReq("g", "", "b", withInstance("i-b"), withProtocols(Protocol{Name: "sticky"}, Protocol{Name: "range"})))
	h.joinOK(tb, 1, ids[0])
	h.state("g", StateStable)
	// a switches to sticky too: sticky now wins the vote, so rebalance.
	ta := h.join(cgJoinReq("g", "", "a", withInstance("i-a"), withProtocols(Protocol{Name: "sticky"}, Protocol{Name: "range"})))
	h.state("g", StatePreparingRebalance)
	h.pendingTok(ta)
}

func TestDuplicateStaticInstanceFencesTheParkedOne(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	t1 := h.join(cgJoinReq("g", "", "x", withInstance("i")))
	h.pendingTok(t1)
	// A second process with the same instance id: the first is fenced.
	t2 := h.join(cgJoinReq("g", "", "x", withInstance("i")))
	r1 := h.joinErr(t1, kerr.FencedInstanceID.Code)
	h.settle(t2)
	r2 := h.joinOK(t2, 1, h.members("g")[0])
	if r1.MemberID == r2.MemberID || len(h.members("g")) != 1 {
		t.Fatalf("r1 %+v r2 %+v members %v", r1, r2, h.members("g"))
	}
	// Unknown member id with a known instance: fenced. With an unknown
	// instance: unknown member.
	h.joinErr(h.join(cgJoinReq("g", "bogus", "x", withInstance("i"))), kerr.FencedInstanceID.Code)
	h.joinErr(h.join(cgJoinReq("g", "bogus", "x", withInstance("j"))), kerr.UnknownMemberID.Code)
}

func TestStaticMemberSurvivesRebalanceTimeoutUntilSessionExpires(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	ids := h.stableStatic("g", []string{"a", "b"})
	ta := h.join(cgJoinReq("g", ids[0], "a", withInstance("i-a")))
	start := h.now
	// b is down (not heartbeating). Its session (10s) ends before the
	// rebalance timeout, and that removal completes the rebalance.
	h.deadline(start.Add(cgSession))
	h.now = start.Add(cgSession)
	h.tick()
	r := h.joinOK(ta, 2, ids[0])
	if len(r.Members) != 1 {
		t.Fatalf("members %+v", r.Members)
	}
}

func TestStaticMemberKeptAtRebalanceTimeout(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	ids := h.stableStatic("g", []string{"a", "b"})
	ta := h.join(cgJoinReq("g", ids[0], "a", withInstance("i-a")))
	start := h.now
	for h.now.Before(start.Add(cgRebalance)) {
		h.advance(5e9)
		h.c.Heartbeat(h.now, "g", ids[1], cgStr("i-b"), 1)
	}
	h.tick()
	// Unlike a dynamic member, b stays: the leader assigns it too.
	r := h.joinOK(ta, 2, ids[0])
	if len(r.Members) != 2 {
		t.Fatalf("members %+v", r.Members)
	}
}

func TestLeaveByInstanceID(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	ids := h.stableStatic("g", []string{"a", "b"})
	per := h.leave("g", LeaveMember{InstanceID: cgStr("i-b")}, LeaveMember{InstanceID: cgStr("i-zz")})
	if !slices.Equal(per, []int16{0, kerr.UnknownMemberID.Code}) {
		t.Fatalf("leave %v", per)
	}
	if got := h.members("g"); !slices.Equal(got, ids[:1]) {
		t.Fatalf("members %v", got)
	}
	h.state("g", StatePreparingRebalance)
}
