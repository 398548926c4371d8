package group

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

var cgDelay = Config{InitialRebalanceDelay: 3 * time.Second}

func TestLeaveTriggersRebalance(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	ids, gen := h.stable("g", []string{"a", "b", "c"})
	a, b, c := ids[0], ids[1], ids[2]
	if gen != 1 {
		t.Fatalf("gen %d", gen)
	}
	if per := h.leave("g", LeaveMember{MemberID: b}); per[0] != 0 {
		t.Fatalf("leave %v", per)
	}
	h.state("g", StatePreparingRebalance)
	h.wantCode("heartbeat during rebalance", h.hb("g", a, 1), kerr.RebalanceInProgress.Code)
	h.wantCode("heartbeat of the leaver", h.hb("g", b, 1), kerr.UnknownMemberID.Code)
	h.syncErr(h.sync(SyncRequest{Group: "g", MemberID: c, Generation: 1}), kerr.RebalanceInProgress.Code)
	// Eager consumers commit before rejoining.
	h.wantCode("commit while preparing", h.c.CommitAllowed(h.now, "g", c, nil, 1), 0)

	tc := h.join(cgJoinReq("g", c, "c"))
	h.pendingTok(tc)
	ta := h.join(cgJoinReq("g", a, "a")) // the last one: completes the rebalance
	lead := h.joinOK(ta, 2, a)
	h.joinOK(tc, 2, a)
	if len(lead.Members) != 2 {
		t.Fatalf("members %+v", lead.Members)
	}
	h.state("g", StateCompletingRebalance)
	h.wantCode("commit while completing", h.c.CommitAllowed(h.now, "g", c, nil, 2), kerr.RebalanceInProgress.Code)
	h.syncAll("g", 2, []string{a, c}, []string{"a", "c"})
	h.wantCode("commit when stable", h.c.CommitAllowed(h.now, "g", c, nil, 2), 0)

	// Stale generation everywhere.
	h.wantCode("stale heartbeat", h.hb("g", a, 1), kerr.IllegalGeneration.Code)
	h.syncErr(h.sync(SyncRequest{Group: "g", MemberID: a, Generation: 1}), kerr.IllegalGeneration.Code)
	h.wantCode("stale commit", h.c.CommitAllowed(h.now, "g", a, nil, 1), kerr.IllegalGeneration.Code)
	// Unknown member everywhere.
	h.wantCode("unknown heartbeat", h.hb("g", "zz", 2), kerr.UnknownMemberID.Code)
	h.syncErr(h.sync(SyncRequest{Group: "g", MemberID: "zz", Generation: 2}), kerr.UnknownMemberID.Code)
	h.wantCode("unknown commit", h.c.CommitAllowed(h.now, "g", "zz", nil, 2), kerr.UnknownMemberID.Code)
	h.joinErr(h.join(cgJoinReq("g", "zz", "z")), kerr.UnknownMemberID.Code)
	h.wantCode("unknown group heartbeat", h.hb("nope", a, 2), kerr.UnknownMemberID.Code)
	h.syncErr(h.sync(SyncRequest{Group: "nope", MemberID: a, Generation: 2}), kerr.UnknownMemberID.Code)

	// Everyone leaves: Empty, and the generation still moves on.
	h.advance(time.Second)
	if per := h.leave("g", LeaveMember{MemberID: a}, LeaveMember{MemberID: c}, LeaveMember{MemberID: "zz"}); !slices.Equal(per, []int16{0, 0, kerr.UnknownMemberID.Code}) {
		t.Fatalf("leave %v", per)
	}
	h.state("g", StateEmpty)
	if g := h.genOf("g"); g != 3 {
		t.Fatalf("gen %d after emptying", g)
	}
	if empty, since, ok := h.c.IsEmpty("g"); !empty || !ok || !since.Equal(h.now) {
		t.Fatalf("IsEmpty = %v %v %v", empty, since, ok)
	}
	h.noDeadline()
	h.noReplies()
}

func TestLeaveUnknownGroup(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	per := h.leave("nope", LeaveMember{MemberID: "x"}, LeaveMember{InstanceID: cgStr("i")})
	if !slices.Equal(per, []int16{kerr.UnknownMemberID.Code, kerr.UnknownMemberID.Code}) {
		t.Fatalf("leave %v", per)
	}
}

func TestLeaveWhileOthersWaitCompletesRebalance(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	ids, _ := h.stable("g", []string{"a", "b"})
	ta := h.join(cgJoinReq("g", ids[0], "a")) // leader rejoin: rebalance
	h.pendingTok(ta)
	h.leave("g", LeaveMember{MemberID: ids[1]})
	h.joinOK(ta, 2, ids[0])
}

func TestSessionTimeoutRemovesMemberExactlyOnTime(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	ids, _ := h.stable("g", []string{"a", "b", "c"})
	a, b, c := ids[0], ids[1], ids[2]
	synced := h.now
	h.deadline(synced.Add(cgSession))

	h.advance(9 * time.Second)
	h.wantCode("a", h.hb("g", a, 1), 0)
	h.wantCode("b", h.hb("g", b, 1), 0)
	h.deadline(synced.Add(cgSession)) // c's

	h.now = synced.Add(cgSession - 1)
	h.tick()
	h.state("g", StateStable)
	h.advance(1)
	h.tick()
	h.state("g", StatePreparingRebalance)
	if got := h.members("g"); !slices.Equal(got, []string{a, b}) {
		t.Fatalf("members %v", got)
	}
	h.wantCode("expired heartbeat", h.hb("g", c, 1), kerr.UnknownMemberID.Code)
	// a and b still owe heartbeats (they have not rejoined): 9s + 10s.
	h.deadline(synced.Add(19 * time.Second))

	tb := h.join(cgJoinReq("g", b, "b"))
	ta := h.join(cgJoinReq("g", a, "a"))
	h.joinOK(ta, 2, a)
	h.joinOK(tb, 2, a)
}

func TestRebalanceTimeoutRemovesMemberThatDoesNotRejoin(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	ids, _ := h.stable("g", []string{"a", "b", "c"})
	a, b, c := ids[0], ids[1], ids[2]
	start := h.now
	ta := h.join(cgJoinReq("g", a, "a")) // leader forces a rebalance
	h.advance(time.Second)
	tb := h.join(cgJoinReq("g", b, "b"))
	// c keeps its session alive with heartbeats but never rejoins.
	for h.now.Before(start.Add(cgRebalance - 5*time.Second)) {
		h.advance(5 * time.Second)
		h.wantCode("c heartbeat", h.hb("g", c, 1), kerr.RebalanceInProgress.Code)
	}
	h.deadline(start.Add(cgRebalance))
	h.now = start.Add(cgRebalance - 1)
	h.tick()
	h.pendingTok(ta)
	h.advance(1)
	h.tick()
	lead := h.joinOK(ta, 2, a)
	h.joinOK(tb, 2, a)
	if len(lead.Members) != 2 {
		t.Fatalf("members %+v", lead.Members)
	}
	h.wantCode("c after timeout", h.hb("g", c, 2), kerr.UnknownMemberID.Code)
}

func TestLeaderThatDoesNotRejoinIsReplaced(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	ids, _ := h.stable("g", []string{"a", "b"})
	tb := h.join(cgJoinReq("g", ids[1], "b", withProtocols(Protocol{Name: "range", Metadata: []byte("changed")})))
	h.advance(cgRebalance)
	h.tick()
	r := h.joinOK(tb, 2, ids[1])
	if len(r.Members) != 1 || string(r.Members[0].Metadata) != "changed" {
		t.Fatalf("members %+v", r.Members)
	}
}

func TestRebalanceAnswersParkedSyncs(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	_, ta := h.firstJoin("g", "a")
	b, tb := h.firstJoin("g", "b")
	h.settle(ta, tb)
	h.joinReply(ta)
	h.joinReply(tb)
	sb := h.sync(SyncRequest{Group: "g", MemberID: b, Generation: 1})
	h.pendingTok(sb)
	// A new member arrives before the leader synced.
	_, tc := h.firstJoin("g", "c")
	h.syncErr(sb, kerr.RebalanceInProgress.Code)
	h.pendingTok(tc)
	h.state("g", StatePreparingRebalance)
}

func TestPendingSyncExpiry(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	a, ta := h.firstJoin("g", "a")
	b, tb := h.firstJoin("g", "b")
	h.settle(ta, tb)
	h.joinReply(ta)
	h.joinReply(tb)
	joined := h.now
	h.syncAssigned(h.sync(SyncRequest{Group: "g", MemberID: a, Generation: 1, Assignments: map[string][]byte{a: []byte("x"), b: []byte("y")}}), "x")
	// b heartbeats but never syncs: it is dropped after the rebalance
	// timeout, and the group rebalances.
	for h.now.Before(joined.Add(cgRebalance - 5*time.Second)) {
		h.advance(5 * time.Second)
		h.wantCode("a", h.hb("g", a, 1), 0)
		h.wantCode("b", h.hb("g", b, 1), 0)
	}
	h.deadline(joined.Add(cgRebalance))
	h.now = joined.Add(cgRebalance)
	h.tick()
	h.state("g", StatePreparingRebalance)
	if got := h.members("g"); !slices.Equal(got, []string{a}) {
		t.Fatalf("members %v", got)
	}
}

func TestNewMemberThatNeverCompletesJoinExpires(t *testing.T) {
	h := newCGHarness(t, Config{InitialRebalanceDelay: time.Second})
	ids, _ := h.stable("g", []string{"a", "b"})
	long := func(r *JoinRequest) { r.RebalanceTimeout = time.Hour }
	ta := h.join(cgJoinReq("g", ids[0], "a", long))
	_, tc := h.firstJoin("g", "c", long)
	start := h.now
	// b keeps heartbeating and never rejoins, so the rebalance lasts.
	for h.now.Before(start.Add(newMemberJoinTimeout - 5*time.Second)) {
		h.advance(5 * time.Second)
		h.hb("g", ids[1], 1)
	}
	h.now = start.Add(newMemberJoinTimeout)
	h.tick()
	h.joinErr(tc, kerr.UnknownMemberID.Code)
	h.pendingTok(ta)
}

func TestCommitAllowed(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	h.wantCode("simple commit, unknown group", h.c.CommitAllowed(h.now, "s", "", nil, -1), 0)
	h.wantCode("generation for unknown group", h.c.CommitAllowed(h.now, "s", "m", nil, 3), kerr.IllegalGeneration.Code)
	h.c.Touch("s")
	h.state("s", StateEmpty)
	if empty, since, ok := h.c.IsEmpty("s"); !empty || !ok || !since.IsZero() {
		t.Fatalf("IsEmpty(touched) = %v %v %v", empty, since, ok)
	}
	h.wantCode("simple commit, empty group", h.c.CommitAllowed(h.now, "s", "", nil, -1), 0)
	h.wantCode("member of empty group", h.c.CommitAllowed(h.now, "s", "m", nil, 0), kerr.UnknownMemberID.Code)

	ids := h.stableStatic("g", []string{"a", "b"})
	h.wantCode("simple commit to active group", h.c.CommitAllowed(h.now, "g", "", nil, -1), kerr.UnknownMemberID.Code)
	h.wantCode("member with generation -1", h.c.CommitAllowed(h.now, "g", ids[0], nil, -1), kerr.IllegalGeneration.Code)
	h.wantCode("right member", h.c.CommitAllowed(h.now, "g", ids[0], cgStr("i-a"), 1), 0)
	h.wantCode("unknown instance", h.c.CommitAllowed(h.now, "g", ids[0], cgStr("other"), 1), kerr.UnknownMemberID.Code)
	h.wantCode("someone else's instance", h.c.CommitAllowed(h.now, "g", ids[0], cgStr("i-b"), 1), kerr.FencedInstanceID.Code)
}

func TestCommitRefreshesSession(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	ids, _ := h.stable("g", []string{"a"})
	h.advance(cgSession - time.Second)
	h.wantCode("commit", h.c.CommitAllowed(h.now, "g", ids[0], nil, 1), 0)
	h.deadline(h.now.Add(cgSession))
}
