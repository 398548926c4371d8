package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestThreeMembersJoinAndSync(t *testing.T) {
	h := newCGHarness(t, Config{InitialRebalanceDelay: 3 * time.Second})
	a, ta := h.firstJoin("g", "a")
	b, tb := h.firstJoin("g", "b")
	c, tc := h.firstJoin("g", "c")
	if a != "a-1" || b != "b-2" || c != "c-3" {
		t.Fatalf("ids %s %s %s", a, b, c)
	}
	h.state("g", StatePreparingRebalance)
	h.deadline(cgEpoch.Add(3 * time.Second))

	// b and c arrived during the delay: it is extended once more.
	h.now = cgEpoch.Add(3*time.Second - 1)
	h.tick()
	h.noReplies()
	h.advance(1)
	h.tick()
	h.noReplies()
	h.deadline(cgEpoch.Add(6 * time.Second))

	h.now = cgEpoch.Add(6 * time.Second)
	h.tick()
	lead := h.joinOK(ta, 1, a)
	h.joinOK(tb, 1, a)
	h.joinOK(tc, 1, a)
	if *lead.Protocol != "range" || *lead.ProtocolType != "consumer" || len(lead.Members) != 3 {
		t.Fatalf("leader reply %+v", lead)
	}
	for i, m := range lead.Members {
		want := []string{"a", "b", "c"}[i]
		if m.MemberID != []string{a, b, c}[i] || string(m.Metadata) != "m-"+want {
			t.Fatalf("member %d = %+v", i, m)
		}
	}
	h.state("g", StateCompletingRebalance)

	h.wantCode("heartbeat before sync", h.hb("g", b, 1), 0)
	h.syncAll("g", 1, []string{a, b, c}, []string{"a", "b", "c"})
	h.state("g", StateStable)
	// Everyone synced at 6s: sessions end at 16s, before the sync timer.
	h.deadline(cgEpoch.Add(16 * time.Second))

	// A follower rejoining with the same metadata in Stable is answered at
	// once, no rebalance.
	tok := h.join(cgJoinReq("g", b, "b"))
	h.joinOK(tok, 1, a)
	h.state("g", StateStable)
	h.noReplies()
}

func TestJoinValidation(t *testing.T) {
	h := newCGHarness(t, Config{MinSessionTimeout: time.Second, MaxSessionTimeout: time.Minute})
	h.joinErr(h.join(cgJoinReq("", "", "a")), kerr.InvalidGroupID.Code)
	h.joinErr(h.join(cgJoinReq("g", "", "a", func(r *JoinRequest) { r.SessionTimeout = time.Second - 1 })), kerr.InvalidSessionTimeout.Code)
	h.joinErr(h.join(cgJoinReq("g", "", "a", func(r *JoinRequest) { r.SessionTimeout = time.Minute + 1 })), kerr.InvalidSessionTimeout.Code)
	h.joinErr(h.join(cgJoinReq("g", "nobody", "a")), kerr.UnknownMemberID.Code)
	h.joinErr(h.join(cgJoinReq("g", "", "a", withProtocols())), kerr.InconsistentGroupProtocol.Code)
	h.joinErr(h.join(cgJoinReq("g", "", "a", func(r *JoinRequest) { r.ProtocolType = "" })), kerr.InconsistentGroupProtocol.Code)
	if got := h.c.List(nil); len(got) != 0 {
		t.Fatalf("rejected joins created groups: %+v", got)
	}
}

func TestInconsistentProtocols(t *testing.T) {
	h := newCGHarness(t, Config{InitialRebalanceDelay: time.Second})
	ids, gen := h.stable("g", []string{"a", "b"}, withProtocols(Protocol{Name: "range"}, Protocol{Name: "roundrobin"}))
	h.joinErr(h.join(cgJoinReq("g", "", "c", withProtocols(Protocol{Name: "sticky"}))), kerr.InconsistentGroupProtocol.Code)
	h.joinErr(h.join(cgJoinReq("g", "", "c", func(r *JoinRequest) { r.ProtocolType = "connect" })), kerr.InconsistentGroupProtocol.Code)
	h.joinErr(h.join(cgJoinReq("g", ids[1], "b", withProtocols(Protocol{Name: "sticky"}))), kerr.InconsistentGroupProtocol.Code)
	h.state("g", StateStable)

	// SyncGroup v5+ protocol fields must match the group's.
	h.syncErr(h.sync(SyncRequest{Group: "g", MemberID: ids[1], Generation: gen, Protocol: cgStr("roundrobin")}), kerr.InconsistentGroupProtocol.Code)
	h.syncErr(h.sync(SyncRequest{Group: "g", MemberID: ids[1], Generation: gen, ProtocolType: cgStr("connect")}), kerr.InconsistentGroupProtocol.Code)
	h.syncAssigned(h.sync(SyncRequest{Group: "g", MemberID: ids[1], Generation: gen, ProtocolType: cgStr("consumer"), Protocol: cgStr("range")}), "asg-b")
}

func TestProtocolSelection(t *testing.T) {
	rr, rng, sticky := Protocol{Name: "roundrobin"}, Protocol{Name: "range"}, Protocol{Name: "sticky"}
	for _, tc := range []struct {
		name  string
		prefs [][]Protocol
		want  string
	}{
		{"majority preference", [][]Protocol{{rng, rr}, {rr, rng}, {rr, rng}}, "roundrobin"},
		{"only common one", [][]Protocol{{rng, rr}, {rng, rr}, {rr, sticky}}, "roundrobin"},
		{"tie goes to oldest member's order", [][]Protocol{{sticky, rng}, {rng, sticky}}, "sticky"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newCGHarness(t, Config{InitialRebalanceDelay: time.Second})
			var toks []Token
			for i, p := range tc.prefs {
				_, tok := h.firstJoin("g", string(rune('a'+i)), withProtocols(p...))
				toks = append(toks, tok)
			}
			h.settle(toks...)
			for _, tok := range toks {
				if r := h.joinReply(tok); r.Protocol == nil || *r.Protocol != tc.want {
					t.Fatalf("protocol %v, want %s", r.Protocol, tc.want)
				}
			}
		})
	}
}

func TestInitialRebalanceDelayCappedByRebalanceTimeout(t *testing.T) {
	h := newCGHarness(t, Config{InitialRebalanceDelay: 3 * time.Second})
	short := func(r *JoinRequest) { r.RebalanceTimeout = 5 * time.Second }
	a, ta := h.firstJoin("g", "a", short)
	h.advance(time.Second)
	_, tb := h.firstJoin("g", "b", short)
	h.deadline(cgEpoch.Add(3 * time.Second))
	h.now = cgEpoch.Add(3 * time.Second)
	h.tick()
	// Extended, but only by the 2s left of the 5s rebalance timeout.
	h.deadline(cgEpoch.Add(5 * time.Second))
	h.advance(time.Second)
	_, tc := h.firstJoin("g", "c", short)
	h.now = cgEpoch.Add(5 * time.Second)
	h.tick()
	h.joinOK(ta, 1, a)
	h.joinOK(tb, 1, a)
	h.joinOK(tc, 1, a)
}

func TestInitialRebalanceDelayNotExtendedWithoutNewMembers(t *testing.T) {
	h := newCGHarness(t, Config{InitialRebalanceDelay: 3 * time.Second})
	a, ta := h.firstJoin("g", "a")
	h.now = cgEpoch.Add(3*time.Second - 1)
	h.tick()
	h.pendingTok(ta)
	h.advance(1)
	h.tick()
	h.joinOK(ta, 1, a)
}

func TestNoInitialDelayAnswersFirstJoinAtOnce(t *testing.T) {
	h := newCGHarness(t, Config{})
	a, ta := h.firstJoin("g", "a")
	h.joinOK(ta, 1, a)
	h.state("g", StateCompletingRebalance)
}

func TestJoinWithoutKIP394(t *testing.T) {
	h := newCGHarness(t, Config{})
	tok := h.join(cgJoinReq("g", "", "a", func(r *JoinRequest) { r.RequireKnownMemberID = false }))
	r := h.joinOK(tok, 1, "a-1")
	if r.MemberID != "a-1" {
		t.Fatalf("member id %q", r.MemberID)
	}
}

func TestPendingMemberExpires(t *testing.T) {
	h := newCGHarness(t, Config{})
	r := h.joinErr(h.join(cgJoinReq("g", "", "a")), kerr.MemberIDRequired.Code)
	h.state("g", StateEmpty)
	h.deadline(cgEpoch.Add(cgSession))
	h.now = cgEpoch.Add(cgSession - 1)
	h.tick()
	h.advance(1)
	h.tick()
	h.noDeadline()
	h.joinErr(h.join(cgJoinReq("g", r.MemberID, "a")), kerr.UnknownMemberID.Code)
}

func TestGroupMaxSize(t *testing.T) {
	h := newCGHarness(t, Config{MaxSize: 2, InitialRebalanceDelay: time.Second})
	// Full while forming: the third member to come back with its id is
	// turned away, and forgotten.
	a := h.joinErr(h.join(cgJoinReq("g", "", "a")), kerr.MemberIDRequired.Code).MemberID
	b := h.joinErr(h.join(cgJoinReq("g", "", "b")), kerr.MemberIDRequired.Code).MemberID
	c := h.joinErr(h.join(cgJoinReq("g", "", "c")), kerr.MemberIDRequired.Code).MemberID
	ta := h.join(cgJoinReq("g", a, "a"))
	tb := h.join(cgJoinReq("g", b, "b"))
	r := h.joinErr(h.join(cgJoinReq("g", c, "c")), kerr.GroupMaxSizeReached.Code)
	if r.MemberID != "" {
		t.Fatalf("max size reply member id %q", r.MemberID)
	}
	h.settle(ta, tb)
	h.joinOK(ta, 1, a)
	h.joinOK(tb, 1, a)
	h.syncAll("g", 1, []string{a, b}, []string{"a", "b"})

	// Full when stable: refused before any id is handed out.
	h.joinErr(h.join(cgJoinReq("g", "", "d")), kerr.GroupMaxSizeReached.Code)
	h.state("g", StateStable)
	if got := h.members("g"); len(got) != 2 {
		t.Fatalf("members %v", got)
	}
}
