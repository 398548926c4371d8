package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestDescribeListDelete(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	h.wantCode("delete unknown", h.c.Delete("g"), kerr.GroupIDNotFound.Code)
	if _, ok := h.c.Describe("g"); ok {
		t.Fatal("unknown group described")
	}
	ids, _ := h.stable("g", []string{"a", "b"})
	h.c.Touch("simple")
	h.c.Touch("g") // no effect on an existing group

	d, _ := h.c.Describe("g")
	if d.State != StateStable || d.ProtocolType != "consumer" || d.Protocol != "range" || len(d.Members) != 2 {
		t.Fatalf("describe %+v", d)
	}
	m := d.Members[1]
	if m.MemberID != ids[1] || m.ClientID != "b" || m.ClientHost != "/10.0.0.1" || string(m.Metadata) != "m-b" || string(m.Assignment) != "asg-b" {
		t.Fatalf("member %+v", m)
	}

	want := []Listing{{Group: "g", ProtocolType: "consumer", State: StateStable}, {Group: "simple", State: StateEmpty}}
	if got := h.c.List(nil); !equalListings(got, want) {
		t.Fatalf("list %+v", got)
	}
	if got := h.c.List([]string{"EMPTY"}); !equalListings(got, want[1:]) {
		t.Fatalf("list empty %+v", got)
	}
	if got := h.c.List([]string{"Dead"}); len(got) != 0 {
		t.Fatalf("list dead %+v", got)
	}

	h.wantCode("delete non-empty", h.c.Delete("g"), kerr.NonEmptyGroup.Code)
	if empty, _, ok := h.c.IsEmpty("g"); empty || !ok {
		t.Fatal("IsEmpty on a stable group")
	}

	// Mid-rebalance, protocol and member metadata are not reported.
	h.leave("g", LeaveMember{MemberID: ids[1]})
	d, _ = h.c.Describe("g")
	if d.State != StatePreparingRebalance || d.Protocol != "" || d.Members[0].Metadata != nil || d.Members[0].Assignment != nil {
		t.Fatalf("describe while rebalancing %+v", d)
	}
	h.leave("g", LeaveMember{MemberID: ids[0]})
	h.state("g", StateEmpty)
	if l := h.c.List([]string{"Empty"}); len(l) != 2 || l[0].ProtocolType != "consumer" {
		t.Fatalf("list %+v", l)
	}
	h.wantCode("delete empty", h.c.Delete("g"), 0)
	if _, ok := h.c.Describe("g"); ok {
		t.Fatal("deleted group still described")
	}
	h.wantCode("delete again", h.c.Delete("g"), kerr.GroupIDNotFound.Code)
}

func equalListings(a, b []Listing) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNextDeadline(t *testing.T) {
	h := newCGHarness(t, Config{InitialRebalanceDelay: 3 * time.Second})
	h.noDeadline()
	h.c.Touch("simple")
	h.noDeadline()

	// KIP-394 pending id: its session.
	a := h.joinErr(h.join(cgJoinReq("g", "", "a")), kerr.MemberIDRequired.Code).MemberID
	h.deadline(cgEpoch.Add(cgSession))
	// Joined: the initial delay comes first.
	h.advance(time.Second)
	ta := h.join(cgJoinReq("g", a, "a"))
	h.deadline(cgEpoch.Add(4 * time.Second))
	h.now = cgEpoch.Add(4 * time.Second)
	h.tick()
	h.joinOK(ta, 1, a)
	// Completing: a's session (it may heartbeat instead of syncing).
	h.deadline(h.now.Add(cgSession))
	// The leader syncs: its session restarts.
	h.advance(time.Second)
	h.c.Heartbeat(h.now, "g", a, nil, 1)
	sb := h.sync(SyncRequest{Group: "g", MemberID: a, Generation: 1, Assignments: map[string][]byte{a: []byte("x")}})
	h.syncAssigned(sb, "x")
	h.deadline(h.now.Add(cgSession))

	// A member parked in a rebalance owes no heartbeat: only the rebalance
	// timer counts.
	rejoin := h.now
	ta = h.join(cgJoinReq("g", a, "a"))
	h.joinOK(ta, 2, a) // alone: completes at once
	h.deadline(rejoin.Add(cgSession))

	h.leave("g", LeaveMember{MemberID: a})
	h.noDeadline()
	if err := (Config{MinSessionTimeout: time.Minute, MaxSessionTimeout: time.Second}).Validate(); err == nil {
		t.Fatal("min above max accepted")
	}
	if err := (Config{MaxSize: -1}).Validate(); err == nil {
		t.Fatal("negative max size accepted")
	}
}

func TestDefaultMemberIDs(t *testing.T) {
	c := NewCoordinator(Config{}, nil)
	rs := c.Join(cgEpoch, 1, cgJoinReq("g", "", "client"))
	id := rs[0].Join.MemberID
	if len(id) != len("client-")+36 || id[:7] != "client-" {
		t.Fatalf("member id %q", id)
	}
	rs = c.Join(cgEpoch, 2, cgJoinReq("g", "", "client", withInstance("inst")))
	if id := rs[0].Join.MemberID; id[:5] != "inst-" {
		t.Fatalf("static member id %q", id)
	}
}
