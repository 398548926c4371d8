package group

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"sluice/internal/partition"
	"sluice/internal/topics"
	"sluice/internal/vfs"
)

// fakeClock is a settable clock for the service's expiry rules.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// openService opens the offsets topic on fsys and a service over it.
func openService(t *testing.T, fsys vfs.FS, clock *fakeClock, snapshotBytes int64) (*Service, *topics.Manager) {
	t.Helper()
	tm, err := topics.Open(fsys, topics.Config{DataDir: "/data", Fsync: partition.FsyncAlways, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Create(topics.CreateRequest{Name: "t", Partitions: 2, ReplicationFactor: 1}); err != nil && tm.Get("t") == nil {
		t.Fatal(err)
	}
	ot, err := tm.EnsureInternal(topics.OffsetsTopic, 1, map[string]string{"segment.bytes": "4096", "retention.ms": "-1"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(ServiceConfig{
		SnapshotBytes: snapshotBytes, MaintenanceInterval: time.Hour, Clock: clock.Now,
		OffsetsRetention: 24 * time.Hour,
	}, ot.Partitions)
	if err != nil {
		t.Fatal(err)
	}
	return s, tm
}

func commit(t *testing.T, s *Service, group string, p int32, offset int64) {
	t.Helper()
	codes := s.Commit(CommitRequest{Group: group, Generation: -1, Offsets: []CommitOffset{
		{TopicPartition: TopicPartition{"t", p}, Offset: offset, LeaderEpoch: -1},
	}})(context.Background())
	if codes[0] != 0 {
		t.Fatalf("commit %s/%d=%d: code %d", group, p, offset, codes[0])
	}
}

// forceSnapshot commits enough offsets of another group for the next
// maintenance to snapshot partition 0, which rewrites its log, and runs it.
func forceSnapshot(t *testing.T, s *Service) {
	t.Helper()
	for i := int64(1); i <= 400; i++ {
		commit(t, s, "other", 0, i)
	}
	before := s.parts[0].StartOffset()
	s.maintain()
	if s.parts[0].StartOffset() == before {
		t.Fatal("no snapshot")
	}
}

// Many commits grow the offsets log; a snapshot shrinks it to the live
// offsets, and a restart replays snapshot + tail to the same table.
func TestSnapshotBoundsTheOffsetsLog(t *testing.T) {
	fsys := vfs.NewMem()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s, tm := openService(t, fsys, clock, 16<<10)
	for i := int64(1); i <= 400; i++ {
		commit(t, s, "a", 0, i)
		commit(t, s, "b", int32(i%2), 1000+i)
	}
	p := s.parts[0]
	before := p.Size()
	if before < 32<<10 {
		t.Fatalf("offsets log only %d bytes after 800 commits", before)
	}
	s.maintain()
	after := p.Size()
	if after >= before/4 || p.StartOffset() == 0 {
		t.Fatalf("snapshot left %d of %d bytes, start offset %d", after, before, p.StartOffset())
	}
	commit(t, s, "a", 1, 77) // a commit after the snapshot
	s.Close()
	tm.Close()

	s2, tm2 := openService(t, fsys, clock, 16<<10)
	defer tm2.Close()
	defer s2.Close()
	want := map[TopicPartition]int64{{"t", 0}: 400, {"t", 1}: 77}
	for tp, off := range want {
		if c, ok := s2.Fetch("a", []TopicPartition{tp})[tp]; !ok || c.Offset != off {
			t.Fatalf("after restart a %v = %+v, want %d", tp, c, off)
		}
	}
	got := s2.Fetch("b", nil)
	if got[TopicPartition{"t", 0}].Offset != 1400 || got[TopicPartition{"t", 1}].Offset != 1399 {
		t.Fatalf("after restart b = %+v", got)
	}
}

// Offsets of an empty group expire after the retention (KIP-211), durably:
// a restart does not bring them back.
func TestOffsetsExpireDurably(t *testing.T) {
	fsys := vfs.NewMem()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s, tm := openService(t, fsys, clock, 64<<20)
	commit(t, s, "old", 0, 5)
	clock.Add(12 * time.Hour)
	commit(t, s, "young", 0, 6)
	clock.Add(13 * time.Hour) // "old" is 25h old, "young" 13h
	s.maintain()
	if len(s.Fetch("old", nil)) != 0 || len(s.Fetch("young", nil)) != 1 {
		t.Fatalf("after expiry: old %v, young %v", s.Fetch("old", nil), s.Fetch("young", nil))
	}
	if _, ok := s.Describe("old"); ok {
		t.Fatal("an empty group with no offsets left is still listed")
	}
	s.Close()
	tm.Close()
	s2, tm2 := openService(t, fsys.CrashClone(), clock, 64<<20)
	defer tm2.Close()
	defer s2.Close()
	if len(s2.Fetch("old", nil)) != 0 || len(s2.Fetch("young", nil)) != 1 {
		t.Fatal("expired offsets came back after a crash and restart")
	}
}

// A group's generations never go back: not after a power loss, and not
// after a snapshot replaced the records that reserved them. Otherwise a
// member's claim to partitions from before a restart would outrank the
// claims of members that joined since (KIP-429) and a partition would
// be consumed twice (generation.go).
func TestGenerationsGrowAcrossRestarts(t *testing.T) {
	mem := vfs.NewMem()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	join := func(s *Service) int32 {
		t.Helper()
		ch := s.Join(JoinRequest{Group: "g", ProtocolType: "consumer", Protocols: []Protocol{{Name: "range"}},
			SessionTimeout: 10 * time.Second, RebalanceTimeout: 20 * time.Second})
		var r Reply
		select {
		case r = <-ch:
		default:
			// A group that had members before the start waits a session
			// timeout for them (recoveryDelay).
			clock.Add(10 * time.Second)
			s.wake()
			r = <-ch
		}
		if r.Join == nil || r.Join.ErrorCode != 0 {
			t.Fatalf("join: %+v", r.Join)
		}
		return r.Join.Generation
	}
	s, tm := openService(t, mem, clock, 16<<10)
	last := join(s)
	if last != 1 {
		t.Fatalf("first generation %d, want 1", last)
	}
	for round := range 3 {
		// Leave, so the next join starts a new generation in this run too.
		s.coord.groups["g"].each(func(m *classicMember) { s.Leave("g", []LeaveMember{{MemberID: m.id}}) })
		gen := join(s)
		if gen <= last {
			t.Fatalf("round %d: generation %d after %d in one run", round, gen, last)
		}
		last = gen
		if round == 1 {
			forceSnapshot(t, s)
		}
		crashed := mem.CrashClone() // the power goes
		s.Close()
		tm.Close()
		mem = crashed
		s, tm = openService(t, mem, clock, 16<<10)
		gen = join(s)
		if gen <= last {
			t.Fatalf("round %d: generation %d after a power loss, after %d before it", round, gen, last)
		}
		last = gen
	}
	s.Close()
	tm.Close()
}

// After a start, a group that had generations before waits a session
// timeout for its members to rejoin before it forms the next generation,
// so that the leader sees every member's claim to its partitions; a new
// group does not wait (with no initial delay configured).
func TestRecoveringGroupWaitsForItsMembers(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	req := func(member string) JoinRequest {
		return JoinRequest{Group: "g", ProtocolType: "consumer", Protocols: []Protocol{{Name: "range"}},
			ClientID: member, SessionTimeout: 6 * time.Second, RebalanceTimeout: 30 * time.Second}
	}
	c := NewCoordinator(Config{}, func(client string) string { return client + "-id" })
	if r := c.Join(now, 1, req("fresh")); len(r) != 1 || r[0].Join.ErrorCode != 0 {
		t.Fatalf("a new group's first join: %+v", r)
	}

	c = NewCoordinator(Config{}, func(client string) string { return client + "-id" })
	c.SetGenerationFloor("g", 1000)
	c.SetRecovering("g")
	if r := c.Join(now, 1, req("a")); len(r) != 0 {
		t.Fatalf("a recovering group answered its first join at once: %+v", r[0].Join)
	}
	if r := c.Join(now.Add(2*time.Second), 2, req("b")); len(r) != 0 {
		t.Fatalf("answered the second join before the wait: %+v", r[0].Join)
	}
	if r := c.Tick(now.Add(5 * time.Second)); len(r) != 0 {
		t.Fatalf("answered before a session timeout: %+v", r[0].Join)
	}
	// The delay's end; a member joined during it, so Kafka's rule looks
	// once more (for no time: no initial delay is configured).
	r := append(c.Tick(now.Add(6*time.Second)), c.Tick(now.Add(6*time.Second))...)
	if len(r) != 2 {
		t.Fatalf("%d answers after the session timeout, want 2", len(r))
	}
	for _, x := range r {
		if x.Join.ErrorCode != 0 || x.Join.Generation != 1001 {
			t.Fatalf("answer %+v, want generation 1001", x.Join)
		}
		if x.Join.MemberID == x.Join.LeaderID && len(x.Join.Members) != 2 {
			t.Fatalf("the leader saw %d members, want both", len(x.Join.Members))
		}
	}
}

// A group deleted (DeleteGroups) and made again under the same name goes
// on from its last generation, not from the start's.
func TestGenerationsGrowAcrossDelete(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := NewCoordinator(Config{}, func(client string) string { return client + "-id" })
	join := func(tok Token) int32 {
		t.Helper()
		r := c.Join(now, tok, JoinRequest{Group: "g", ProtocolType: "consumer", Protocols: []Protocol{{Name: "range"}},
			ClientID: "a", SessionTimeout: 6 * time.Second, RebalanceTimeout: 30 * time.Second})
		if len(r) != 1 || r[0].Join.ErrorCode != 0 {
			t.Fatalf("join: %+v", r)
		}
		return r[0].Join.Generation
	}
	before := join(1)
	c.Leave(now, "g", []LeaveMember{{MemberID: "a-id"}})
	if code := c.Delete("g"); code != 0 {
		t.Fatalf("delete: code %d", code)
	}
	if after := join(2); after <= before {
		t.Fatalf("generation %d after the group was deleted and made again, %d before", after, before)
	}
}

// A group's members are kept over a power loss, as Kafka keeps them over
// a coordinator move: once a SyncGroup has answered, a restart finds the
// group Stable in that generation, with every member and its assignment,
// and its members heartbeat and commit on without rejoining. A group all
// of whose members left comes back Empty, and its next join is answered
// without waiting for members that are gone (stored_group.go).
func TestMembersKeptAcrossRestart(t *testing.T) {
	mem := vfs.NewMem()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	req := func(client string) JoinRequest {
		return JoinRequest{Group: "g", ProtocolType: "consumer", ClientID: client, ClientHost: "/10.0.0.1",
			Protocols:      []Protocol{{Name: "sticky", Metadata: []byte("meta-" + client)}, {Name: "range", Metadata: []byte("r")}},
			SessionTimeout: 10 * time.Second, RebalanceTimeout: 20 * time.Second}
	}
	recv := func(ch <-chan Reply) Reply {
		t.Helper()
		select {
		case r := <-ch:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no answer")
			return Reply{}
		}
	}
	s, tm := openService(t, mem, clock, 16<<10)
	first := recv(s.Join(req("a"))).Join // alone: answered at once
	cb := s.Join(req("b"))               // a rebalance, which waits for a
	ra := req("a")
	ra.MemberID = first.MemberID
	ca := s.Join(ra)
	a, b := recv(ca).Join, recv(cb).Join
	if a.ErrorCode != 0 || b.ErrorCode != 0 || a.Generation != b.Generation {
		t.Fatalf("joins: %+v %+v", a, b)
	}
	gen := a.Generation
	leader, follower := a, b
	if b.LeaderID == b.MemberID {
		leader, follower = b, a
	}
	fs := s.Sync(SyncRequest{Group: "g", MemberID: follower.MemberID, Generation: gen})
	ls := s.Sync(SyncRequest{Group: "g", MemberID: leader.MemberID, Generation: gen, Assignments: map[string][]byte{
		leader.MemberID: []byte("to-leader"), follower.MemberID: []byte("to-follower"),
	}})
	if r := recv(ls).Sync; r.ErrorCode != 0 || string(r.Assignment) != "to-leader" {
		t.Fatalf("leader's sync: %+v", r)
	}
	if r := recv(fs).Sync; r.ErrorCode != 0 || string(r.Assignment) != "to-follower" {
		t.Fatalf("follower's sync: %+v", r)
	}

	// A snapshot rewrites the log that held the state; then the power
	// goes.
	forceSnapshot(t, s)
	crashed := mem.CrashClone()
	s.Close()
	tm.Close()
	mem = crashed
	clock.Add(3 * time.Second)
	s, tm = openService(t, mem, clock, 16<<10)
	d, ok := s.Describe("g")
	if !ok || d.State != StateStable || d.Protocol != "sticky" || len(d.Members) != 2 {
		t.Fatalf("after the restart: %+v", d)
	}
	for _, m := range d.Members {
		want := map[string]string{leader.MemberID: "to-leader", follower.MemberID: "to-follower"}[m.MemberID]
		if want == "" || string(m.Assignment) != want || string(m.Metadata) != "meta-"+m.ClientID || m.ClientHost != "/10.0.0.1" {
			t.Fatalf("member after the restart: %+v", m)
		}
	}
	for _, id := range []string{leader.MemberID, follower.MemberID} {
		if code := s.Heartbeat("g", id, nil, gen); code != 0 {
			t.Fatalf("heartbeat of %s in generation %d after the restart: code %d", id, gen, code)
		}
	}
	codes := s.Commit(CommitRequest{Group: "g", MemberID: follower.MemberID, Generation: gen, Offsets: []CommitOffset{
		{TopicPartition: TopicPartition{"t", 0}, Offset: 7, LeaderEpoch: -1},
	}})(context.Background())
	if codes[0] != 0 {
		t.Fatalf("commit in generation %d after the restart: code %d", gen, codes[0])
	}
	// A generation handed out after the restart still follows every one
	// reserved before it.
	s.Leave("g", []LeaveMember{{MemberID: follower.MemberID}})
	r := recv(s.Join(JoinRequest{Group: "g", MemberID: leader.MemberID, ProtocolType: "consumer", ClientID: "a",
		Protocols: []Protocol{{Name: "sticky"}}, SessionTimeout: 10 * time.Second, RebalanceTimeout: 20 * time.Second})).Join
	if r.ErrorCode != 0 || r.Generation <= gen+generationReserve-1 {
		t.Fatalf("rejoin after the restart: %+v, want a generation past %d", r, gen+generationReserve-1)
	}

	// Everyone leaves; the next start brings back no one.
	s.Leave("g", []LeaveMember{{MemberID: leader.MemberID}})
	if d, _ := s.Describe("g"); d.State != StateEmpty {
		t.Fatalf("after every member left: %+v", d)
	}
	last := r.Generation
	crashed = mem.CrashClone()
	s.Close()
	tm.Close()
	mem = crashed
	s, tm = openService(t, mem, clock, 16<<10)
	defer tm.Close()
	defer s.Close()
	if d, _ := s.Describe("g"); d.State != StateEmpty || len(d.Members) != 0 {
		t.Fatalf("a group every member left came back as %+v", d)
	}
	select {
	case r := <-s.Join(req("c")):
		if r.Join.ErrorCode != 0 || r.Join.Generation <= last {
			t.Fatalf("first join after the restart: %+v, want a generation past %d", r.Join, last)
		}
	default:
		t.Fatal("the first join of a group every member had left waited for members")
	}
}

// A static member that restarts in a Stable group takes over under a new
// member id without a rebalance (KIP-345); after a power loss the new id
// is the member and the old one stays fenced.
func TestStaticTakeoverKeptAcrossRestart(t *testing.T) {
	mem := vfs.NewMem()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	instance := "i1"
	req := JoinRequest{Group: "g", ProtocolType: "consumer", ClientID: "c", InstanceID: &instance,
		Protocols: []Protocol{{Name: "range"}}, SessionTimeout: 10 * time.Second, RebalanceTimeout: 20 * time.Second}
	s, tm := openService(t, mem, clock, 16<<10)
	first := (<-s.Join(req)).Join
	if first.ErrorCode != 0 {
		t.Fatalf("join: %+v", first)
	}
	if r := (<-s.Sync(SyncRequest{Group: "g", MemberID: first.MemberID, InstanceID: &instance, Generation: first.Generation,
		Assignments: map[string][]byte{first.MemberID: []byte("all")}})).Sync; r.ErrorCode != 0 {
		t.Fatalf("sync: %+v", r)
	}
	again := (<-s.Join(req)).Join // the same instance, restarted: no member id
	if again.ErrorCode != 0 || again.MemberID == first.MemberID || again.Generation != first.Generation {
		t.Fatalf("static rejoin: %+v, first %+v", again, first)
	}
	crashed := mem.CrashClone()
	s.Close()
	tm.Close()
	s, tm = openService(t, crashed, clock, 16<<10)
	defer tm.Close()
	defer s.Close()
	if code := s.Heartbeat("g", again.MemberID, &instance, again.Generation); code != 0 {
		t.Fatalf("the new member id after the restart: code %d", code)
	}
	if code := s.Heartbeat("g", first.MemberID, &instance, first.Generation); code != kerr.FencedInstanceID.Code {
		t.Fatalf("the replaced member id after the restart: code %d, want FENCED_INSTANCE_ID", code)
	}
}

// A settled generation whose state cannot be stored is not handed out:
// the SyncGroup is answered COORDINATOR_NOT_AVAILABLE and the group
// rebalances, as Kafka does, rather than stay Stable with an assignment
// a restart would not find.
func TestUnstoredGenerationRebalances(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s, tm := openService(t, vfs.NewMem(), clock, 16<<10)
	defer tm.Close()
	defer s.Close()
	j := (<-s.Join(JoinRequest{Group: "g", ProtocolType: "consumer", ClientID: "c", Protocols: []Protocol{{Name: "range"}},
		SessionTimeout: 10 * time.Second, RebalanceTimeout: 20 * time.Second})).Join
	if j.ErrorCode != 0 {
		t.Fatalf("join: %+v", j)
	}
	if err := s.parts[0].Close(); err != nil { // the offsets log can take no more writes
		t.Fatal(err)
	}
	r := (<-s.Sync(SyncRequest{Group: "g", MemberID: j.MemberID, Generation: j.Generation,
		Assignments: map[string][]byte{j.MemberID: []byte("all")}})).Sync
	if r.ErrorCode != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("sync whose state could not be stored: %+v, want COORDINATOR_NOT_AVAILABLE", r)
	}
	if d, _ := s.Describe("g"); d.State != StatePreparingRebalance {
		t.Fatalf("group after the failed store: %s, want %s", d.State, StatePreparingRebalance)
	}
}
