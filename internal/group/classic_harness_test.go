package group

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// cgHarness drives a Coordinator with a fake clock. Replies are collected
// by token as they become ready, so a test asserts which requests were
// answered by which call.
type cgHarness struct {
	t       *testing.T
	c       *Coordinator
	now     time.Time
	nextTok Token
	ready   map[Token]Reply
}

var cgEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	cgSession   = 10 * time.Second
	cgRebalance = 60 * time.Second
)

func newCGHarness(t *testing.T, cfg Config) *cgHarness {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n := 0
	ids := func(prefix string) string { n++; return fmt.Sprintf("%s-%d", prefix, n) }
	return &cgHarness{t: t, c: NewCoordinator(cfg, ids), now: cgEpoch, ready: map[Token]Reply{}}
}

func (h *cgHarness) advance(d time.Duration) { h.now = h.now.Add(d) }

func (h *cgHarness) collect(rs []Reply) {
	h.t.Helper()
	for _, r := range rs {
		if _, dup := h.ready[r.Token]; dup {
			h.t.Fatalf("token %d answered twice", r.Token)
		}
		if (r.Join == nil) == (r.Sync == nil) {
			h.t.Fatalf("token %d: reply must carry exactly one of Join and Sync: %+v", r.Token, r)
		}
		h.ready[r.Token] = r
	}
}

// joinReq is a consumer-style JoinGroup; opts tweak it.
func cgJoinReq(group, memberID, client string, opts ...func(*JoinRequest)) JoinRequest {
	r := JoinRequest{
		Group: group, MemberID: memberID, ClientID: client, ClientHost: "/10.0.0.1",
		ProtocolType:   "consumer",
		Protocols:      []Protocol{{Name: "range", Metadata: []byte("m-" + client)}},
		SessionTimeout: cgSession, RebalanceTimeout: cgRebalance,
		RequireKnownMemberID: true,
	}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func withInstance(id string) func(*JoinRequest) {
	return func(r *JoinRequest) { r.InstanceID = &id }
}

func withProtocols(ps ...Protocol) func(*JoinRequest) {
	return func(r *JoinRequest) { r.Protocols = ps }
}

func (h *cgHarness) join(req JoinRequest) Token {
	h.t.Helper()
	h.nextTok++
	tok := h.nextTok
	h.collect(h.c.Join(h.now, tok, req))
	return tok
}

func (h *cgHarness) sync(req SyncRequest) Token {
	h.t.Helper()
	h.nextTok++
	tok := h.nextTok
	h.collect(h.c.Sync(h.now, tok, req))
	return tok
}

func (h *cgHarness) tick() {
	h.t.Helper()
	h.collect(h.c.Tick(h.now))
}

func (h *cgHarness) leave(group string, ms ...LeaveMember) []int16 {
	h.t.Helper()
	top, per, rs := h.c.Leave(h.now, group, ms)
	if top != 0 {
		h.t.Fatalf("leave top-level error %d", top)
	}
	h.collect(rs)
	return per
}

func (h *cgHarness) pendingTok(tok Token) {
	h.t.Helper()
	if r, ok := h.ready[tok]; ok {
		h.t.Fatalf("token %d answered too early: %+v", tok, r)
	}
}

func (h *cgHarness) joinReply(tok Token) JoinResponse {
	h.t.Helper()
	r, ok := h.ready[tok]
	if !ok || r.Join == nil {
		h.t.Fatalf("token %d: no join reply (have %+v)", tok, r)
	}
	delete(h.ready, tok)
	return *r.Join
}

func (h *cgHarness) syncReply(tok Token) SyncResponse {
	h.t.Helper()
	r, ok := h.ready[tok]
	if !ok || r.Sync == nil {
		h.t.Fatalf("token %d: no sync reply (have %+v)", tok, r)
	}
	delete(h.ready, tok)
	return *r.Sync
}

// joinOK asserts a successful join reply and returns it.
func (h *cgHarness) joinOK(tok Token, gen int32, leader string) JoinResponse {
	h.t.Helper()
	r := h.joinReply(tok)
	if r.ErrorCode != 0 || r.Generation != gen || r.LeaderID != leader {
		h.t.Fatalf("token %d: join = code %d gen %d leader %q, want 0 gen %d leader %q", tok, r.ErrorCode, r.Generation, r.LeaderID, gen, leader)
	}
	isLeader := r.MemberID == leader
	if isLeader != (r.Members != nil) {
		h.t.Fatalf("token %d: member %s leader=%v but members=%v", tok, r.MemberID, isLeader, r.Members)
	}
	return r
}

func (h *cgHarness) joinErr(tok Token, code int16) JoinResponse {
	h.t.Helper()
	r := h.joinReply(tok)
	if r.ErrorCode != code {
		h.t.Fatalf("token %d: join error %d, want %d", tok, r.ErrorCode, code)
	}
	return r
}

func (h *cgHarness) syncErr(tok Token, code int16) {
	h.t.Helper()
	if r := h.syncReply(tok); r.ErrorCode != code {
		h.t.Fatalf("token %d: sync error %d, want %d", tok, r.ErrorCode, code)
	}
}

func (h *cgHarness) syncAssigned(tok Token, want string) {
	h.t.Helper()
	r := h.syncReply(tok)
	if r.ErrorCode != 0 || string(r.Assignment) != want {
		h.t.Fatalf("token %d: sync = code %d assignment %q, want 0 %q", tok, r.ErrorCode, r.Assignment, want)
	}
}

func (h *cgHarness) noReplies() {
	h.t.Helper()
	if len(h.ready) > 0 {
		h.t.Fatalf("unexpected replies: %+v", h.ready)
	}
}

func (h *cgHarness) state(group, want string) {
	h.t.Helper()
	d, ok := h.c.Describe(group)
	if !ok || d.State != want {
		h.t.Fatalf("group %s state %q (exists %v), want %q", group, d.State, ok, want)
	}
}

func (h *cgHarness) members(group string) []string {
	d, _ := h.c.Describe(group)
	var ids []string
	for _, m := range d.Members {
		ids = append(ids, m.MemberID)
	}
	return ids
}

// firstJoin does the KIP-394 round trip and returns the member id and the
// token of the join that is now parked (or answered).
func (h *cgHarness) firstJoin(group, client string, opts ...func(*JoinRequest)) (string, Token) {
	h.t.Helper()
	r := h.joinErr(h.join(cgJoinReq(group, "", client, opts...)), kerr.MemberIDRequired.Code)
	if r.MemberID == "" || r.Generation != -1 {
		h.t.Fatalf("MEMBER_ID_REQUIRED reply %+v", r)
	}
	return r.MemberID, h.join(cgJoinReq(group, r.MemberID, client, opts...))
}

func (h *cgHarness) hb(group, member string, gen int32) int16 {
	return h.c.Heartbeat(h.now, group, member, nil, gen)
}

func (h *cgHarness) wantCode(what string, got, want int16) {
	h.t.Helper()
	if got != want {
		h.t.Fatalf("%s: code %d, want %d", what, got, want)
	}
}

func (h *cgHarness) deadline(want time.Time) {
	h.t.Helper()
	got, ok := h.c.NextDeadline()
	if !ok || !got.Equal(want) {
		h.t.Fatalf("NextDeadline = %v %v, want %v", got, ok, want)
	}
}

func (h *cgHarness) noDeadline() {
	h.t.Helper()
	if got, ok := h.c.NextDeadline(); ok {
		h.t.Fatalf("NextDeadline = %v, want none", got)
	}
}

func cgStr(s string) *string { return &s }

// settle advances the clock from deadline to deadline until every token
// in toks is answered.
func (h *cgHarness) settle(toks ...Token) {
	h.t.Helper()
	for range 20 {
		done := true
		for _, tok := range toks {
			if _, ok := h.ready[tok]; !ok {
				done = false
			}
		}
		if done {
			return
		}
		d, ok := h.c.NextDeadline()
		if !ok {
			break
		}
		h.now = d
		h.tick()
	}
	h.t.Fatalf("tokens %v never answered", toks)
}

// stable builds a Stable group: each client does the KIP-394 round trip,
// the initial delay passes, followers then the leader sync. Member i is
// assigned "asg-<client>". Returns member ids in join order (the first is
// the leader) and the generation.
func (h *cgHarness) stable(group string, clients []string, opts ...func(*JoinRequest)) ([]string, int32) {
	h.t.Helper()
	if h.c.cfg.InitialRebalanceDelay == 0 {
		h.t.Fatal("stable needs an initial rebalance delay so that all members join one generation")
	}
	ids := make([]string, len(clients))
	toks := make([]Token, len(clients))
	for i, c := range clients {
		ids[i], toks[i] = h.firstJoin(group, c, opts...)
	}
	h.settle(toks...)
	gen := h.joinOK(toks[0], h.genOf(group), ids[0]).Generation
	for _, tok := range toks[1:] {
		h.joinOK(tok, gen, ids[0])
	}
	h.syncAll(group, gen, ids, clients)
	h.state(group, StateStable)
	return ids, gen
}

// syncAll syncs followers, then the leader (ids[0]) with assignments.
func (h *cgHarness) syncAll(group string, gen int32, ids, clients []string) {
	h.t.Helper()
	asg := map[string][]byte{}
	stoks := make([]Token, len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		asg[ids[i]] = []byte("asg-" + clients[i])
		req := SyncRequest{Group: group, MemberID: ids[i], Generation: gen}
		if i == 0 {
			req.Assignments = asg
		}
		stoks[i] = h.sync(req)
		if i > 0 {
			h.pendingTok(stoks[i])
		}
	}
	for i, tok := range stoks {
		h.syncAssigned(tok, "asg-"+clients[i])
	}
}

func (h *cgHarness) genOf(group string) int32 {
	return h.c.groups[group].generation
}

// stableStatic is stable for static members: instance id "i-<client>", no
// KIP-394 round trip (KIP-345 members get their id with the answer).
func (h *cgHarness) stableStatic(group string, clients []string) []string {
	h.t.Helper()
	toks := make([]Token, len(clients))
	for i, c := range clients {
		toks[i] = h.join(cgJoinReq(group, "", c, withInstance("i-"+c)))
	}
	h.settle(toks...)
	ids := make([]string, len(clients))
	rs := make([]JoinResponse, len(clients))
	for i, tok := range toks {
		rs[i] = h.joinReply(tok)
		ids[i] = rs[i].MemberID
	}
	for _, r := range rs {
		if r.ErrorCode != 0 || r.LeaderID != ids[0] {
			h.t.Fatalf("static join %+v", r)
		}
	}
	h.syncAll(group, rs[0].Generation, ids, clients)
	return ids
}
