package tests

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/vfs"
)

// groupBroker starts a broker whose group timeouts suit tests: sessions may
// be as short as 1s and the first rebalance does not wait.
func groupBroker(t *testing.T) *brokertest.Broker {
	return brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) {
		c.GroupMinSessionTimeout = time.Second
		c.GroupInitialRebalanceDelay = -1 // none
	}))
}

// killSwitch lets a test cut a client off the network as a crash would: no
// LeaveGroup, no more heartbeats.
type killSwitch struct {
	mu    sync.Mutex
	conns []net.Conn
	dead  bool
}

func (k *killSwitch) dial(ctx context.Context, network, host string) (net.Conn, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead {
		return nil, errors.New("killed")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		k.conns = append(k.conns, c)
	}
	return c, err
}

func (k *killSwitch) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dead = true
	for _, c := range k.conns {
		c.Close()
	}
}

// consumed records what every member processed.
type consumed struct {
	mu   sync.Mutex
	seen map[string]int // "p/offset" -> times processed
	// uncommitted counts, per member, records processed since its last
	// acknowledged commit: the most a crash of that member may replay.
	uncommitted map[string]int
}

func newConsumed() *consumed {
	return &consumed{seen: map[string]int{}, uncommitted: map[string]int{}}
}

func (c *consumed) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func (c *consumed) duplicates() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.seen {
		n += k - 1
	}
	return n
}

// member is one consumer of the group: process, then commit (at least once).
type member struct {
	name   string
	cl     *kgo.Client
	ks     *killSwitch
	cancel context.CancelFunc
	done   chan struct{}
}

func startMember(t *testing.T, addr, grp, topic, name string, c *consumed, opts ...kgo.Opt) *member {
	m := &member{name: name, ks: &killSwitch{}, done: make(chan struct{})}
	base := []kgo.Opt{
		kgo.SeedBrokers(addr), kgo.Dialer(m.ks.dial),
		kgo.ConsumerGroup(grp), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(3 * time.Second), kgo.HeartbeatInterval(300 * time.Millisecond),
		kgo.RebalanceTimeout(10 * time.Second), kgo.ClientID(name),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	m.cl = cl
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			recs := fs.Records()
			if len(recs) == 0 {
				continue
			}
			c.mu.Lock()
			for _, r := range recs {
				c.seen[fmt.Sprintf("%d/%d", r.Partition, r.Offset)]++
			}
			c.uncommitted[name] += len(recs)
			c.mu.Unlock()
			if err := cl.CommitRecords(ctx, recs...); err == nil {
				c.mu.Lock()
				c.uncommitted[name] = 0
				c.mu.Unlock()
			}
		}
	}()
	return m
}

// leave stops a member cleanly: its consumer loop ends and Close sends
// LeaveGroup.
func (m *member) leave() {
	m.cancel()
	<-m.done
	m.cl.Close()
}

// crash cuts the member off the network first, so the broker only learns
// of it through the session timeout.
func (m *member) crash() {
	m.ks.kill()
	m.cancel()
	<-m.done
	go m.cl.Close() // its LeaveGroup cannot get through; don't wait for it
}

// waitStable polls DescribeGroups until the group is Stable with exactly
// want members whose assignments cover every partition exactly once, and
// returns the generation's assignment (member client id -> partitions).
func waitStable(t *testing.T, adm *kadm.Client, grp, topic string, partitions int, want int) map[string][]int32 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		dg, err := adm.DescribeGroups(context.Background(), grp)
		if err == nil {
			d := dg[grp]
			owners := map[int32]int{}
			byMember := map[string][]int32{}
			for _, m := range d.Members {
				ca, ok := m.Assigned.AsConsumer()
				if !ok {
					continue
				}
				for _, tp := range ca.Topics {
					if tp.Topic != topic {
						continue
					}
					for _, p := range tp.Partitions {
						owners[p]++
						byMember[m.ClientID] = append(byMember[m.ClientID], p)
					}
				}
			}
			exact := len(owners) == partitions
			for _, n := range owners {
				exact = exact && n == 1
			}
			last = fmt.Sprintf("state %s, %d members, owners %v", d.State, len(d.Members), owners)
			if d.State == "Stable" && len(d.Members) == want && exact {
				return byMember
			}
		}
		time.Sleep(50 * time.Millisecond) // the group settles on the clients' schedule; poll its state
	}
	t.Fatalf("group %s never became Stable with %d members owning every partition once; last: %s", grp, want, last)
	return nil
}

func produceTo(t *testing.T, addr, topic string, partitions, perPartition, from int) {
	t.Helper()
	cl := newClient(t, addr, kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for p := 0; p < partitions; p++ {
		for i := 0; i < perPartition; i++ {
			recs = append(recs, &kgo.Record{Partition: int32(p), Value: val(from + i)})
		}
	}
	if err := cl.ProduceSync(testCtx(t, 30*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
}

func waitConsumed(t *testing.T, c *consumed, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for c.total() < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := c.total(); got != n {
		t.Fatalf("consumed %d distinct records, want %d", got, n)
	}
}

// Three consumers join, one leaves cleanly, one crashes: at every
// generation each partition has exactly one owner, consumption resumes
// from the committed offsets, nothing is lost, and only the crashed
// member's uncommitted records are processed twice.
func TestGroupRebalance(t *testing.T) {
	for _, bal := range []struct {
		name string
		opt  kgo.GroupBalancer
	}{{"eager-range", kgo.RangeBalancer()}, {"cooperative-sticky", kgo.CooperativeStickyBalancer()}} {
		t.Run(bal.name, func(t *testing.T) {
			b := groupBroker(t)
			adm := newAdmin(t, b.Addr())
			topic, grp := topicName(t, "reb"), "g-"+bal.name
			const parts = 6
			createTopic(t, adm, topic, parts, nil)
			produceTo(t, b.Addr(), topic, parts, 50, 0)
			c := newConsumed()
			opt := kgo.Balancers(bal.opt)
			ms := []*member{
				startMember(t, b.Addr(), grp, topic, "m1", c, opt),
				startMember(t, b.Addr(), grp, topic, "m2", c, opt),
				startMember(t, b.Addr(), grp, topic, "m3", c, opt),
			}
			waitStable(t, adm, grp, topic, parts, 3)
			waitConsumed(t, c, parts*50)

			ms[0].leave()
			waitStable(t, adm, grp, topic, parts, 2)
			produceTo(t, b.Addr(), topic, parts, 50, 50)
			waitConsumed(t, c, parts*100)
			if d := c.duplicates(); d != 0 {
				t.Fatalf("%d records processed twice after a clean leave, want 0", d)
			}

			ms[1].crash()
			c.mu.Lock()
			bound := c.uncommitted["m2"]
			c.mu.Unlock()
			owned := waitStable(t, adm, grp, topic, parts, 1)
			if len(owned["m3"]) != parts {
				t.Fatalf("survivor owns %v", owned)
			}
			produceTo(t, b.Addr(), topic, parts, 50, 100)
			waitConsumed(t, c, parts*150)
			if d := c.duplicates(); d > bound {
				t.Fatalf("%d records processed twice after a crash, more than the %d the crashed member had not committed", d, bound)
			}
			// The survivor commits after processing; its last commit may
			// still be in flight when the last record is seen. Wait for the
			// commits to reach the end of every partition before it leaves,
			// so leaving does not cancel one.
			deadline := time.Now().Add(30 * time.Second)
			var off kadm.OffsetResponses
			for {
				var err error
				off, err = adm.FetchOffsets(testCtx(t, 10*time.Second), grp)
				if err != nil {
					t.Fatal(err)
				}
				atEnd := true
				for p := int32(0); p < parts; p++ {
					o, ok := off.Lookup(topic, p)
					atEnd = atEnd && ok && o.At == 150
				}
				if atEnd || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			for p := int32(0); p < parts; p++ {
				if o, ok := off.Lookup(topic, p); !ok || o.At != 150 {
					t.Fatalf("partition %d committed %+v, want 150", p, o)
				}
			}
			ms[2].leave()
		})
	}
}

// A static member (group.instance.id, KIP-345) that restarts within its
// session timeout gets its partitions back without a rebalance; the member
// it replaced is fenced.
func TestStaticMembershipRejoin(t *testing.T) {
	b := groupBroker(t)
	adm := newAdmin(t, b.Addr())
	topic, grp := topicName(t, "static"), "g-static"
	createTopic(t, adm, topic, 4, nil)
	c := newConsumed()
	// s2 joins once s1 leads a stable group, so s1 stays the leader: a
	// restarted static leader is told to skip the assignment (KIP-814),
	// and franz-go then checks its own plan and may rebalance by choice.
	m2 := startMember(t, b.Addr(), grp, topic, "s2", c, kgo.InstanceID("instance-2"))
	waitStable(t, adm, grp, topic, 4, 1)
	m1 := startMember(t, b.Addr(), grp, topic, "s1", c, kgo.InstanceID("instance-1"))
	before := waitStable(t, adm, grp, topic, 4, 2)
	dg, _ := adm.DescribeGroups(context.Background(), grp)
	oldID := ""
	for _, m := range dg[grp].Members {
		if m.InstanceID != nil && *m.InstanceID == "instance-1" {
			oldID = m.MemberID
		}
	}
	genBefore := groupGeneration(t, b.Addr(), grp, oldID, "instance-1")

	m1.crash() // the follower; static members send no LeaveGroup on close anyway
	m1b := startMember(t, b.Addr(), grp, topic, "s1", c, kgo.InstanceID("instance-1"))
	newID := ""
	deadline := time.Now().Add(20 * time.Second)
	for newID == "" && time.Now().Before(deadline) {
		dg, _ = adm.DescribeGroups(context.Background(), grp)
		for _, m := range dg[grp].Members {
			if m.InstanceID != nil && *m.InstanceID == "instance-1" && m.MemberID != oldID {
				newID = m.MemberID
			}
		}
		time.Sleep(20 * time.Millisecond) // the restarted client joins on its own schedule
	}
	if newID == "" {
		t.Fatalf("restarted static member never replaced %q", oldID)
	}
	after := waitStable(t, adm, grp, topic, 4, 2)
	slices.Sort(before["s1"])
	slices.Sort(after["s1"])
	if !slices.Equal(before["s1"], after["s1"]) {
		t.Fatalf("static member's partitions moved: %v -> %v", before["s1"], after["s1"])
	}
	if gen := groupGeneration(t, b.Addr(), grp, newID, "instance-1"); gen != genBefore {
		t.Fatalf("generation moved from %d to %d: the static rejoin caused a rebalance", genBefore, gen)
	}
	// The replaced member id is fenced.
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = grp, oldID, genBefore
	inst := "instance-1"
	hb.InstanceID = &inst
	resp, err := hb.RequestWith(testCtx(t, 10*time.Second), newClient(t, b.Addr()))
	if err != nil || resp.ErrorCode != kerr.FencedInstanceID.Code {
		t.Fatalf("heartbeat of the replaced member: %v %v, want FENCED_INSTANCE_ID", err, resp)
	}
	m1b.leave()
	m2.leave()
}

// groupGeneration reads the group's generation with a heartbeat-free
// probe: an OffsetCommit with no partitions is not enough, so ask the
// coordinator by syncing nothing — DescribeGroups does not report it; use
// a Heartbeat at generations until it stops saying ILLEGAL_GENERATION.
func groupGeneration(t *testing.T, addr, grp, memberID, instance string) int32 {
	t.Helper()
	cl := newClient(t, addr)
	for gen := int32(1); gen < 100; gen++ {
		hb := kmsg.NewPtrHeartbeatRequest()
		hb.Group, hb.MemberID, hb.Generation, hb.InstanceID = grp, memberID, gen, &instance
		resp, err := hb.RequestWith(testCtx(t, 10*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode == 0 {
			return gen
		}
		if resp.ErrorCode != kerr.IllegalGeneration.Code {
			t.Fatalf("heartbeat probe: %v", kerr.ErrorForCode(resp.ErrorCode))
		}
	}
	t.Fatal("no generation found")
	return 0
}

// A commit or heartbeat from a stale generation or an unknown member gets
// exactly Kafka's error codes, and a stale commit changes nothing.
func TestStaleGenerationErrors(t *testing.T) {
	b := groupBroker(t)
	adm := newAdmin(t, b.Addr())
	topic, grp := topicName(t, "stale"), "g-stale"
	createTopic(t, adm, topic, 1, nil)
	c := newConsumed()
	m := startMember(t, b.Addr(), grp, topic, "only", c)
	waitStable(t, adm, grp, topic, 1, 1)
	dg, _ := adm.DescribeGroups(context.Background(), grp)
	id := dg[grp].Members[0].MemberID
	cl := newClient(t, b.Addr())
	ctx := testCtx(t, 10*time.Second)

	commit := func(member string, gen int32) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group, req.MemberID, req.Generation = grp, member, gen
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = 0, 12345
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	if code := commit(id, 999); code != kerr.IllegalGeneration.Code {
		t.Errorf("stale generation commit: %v", kerr.ErrorForCode(code))
	}
	if code := commit("nobody", 1); code != kerr.UnknownMemberID.Code {
		t.Errorf("unknown member commit: %v", kerr.ErrorForCode(code))
	}
	if code := commit("", -1); code != kerr.UnknownMemberID.Code && code != kerr.IllegalGeneration.Code {
		t.Errorf("simple commit into an active group: %v", kerr.ErrorForCode(code))
	}
	off, _ := adm.FetchOffsets(ctx, grp)
	if o, ok := off.Lookup(topic, 0); ok && o.At == 12345 {
		t.Fatal("a rejected commit was stored")
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = grp, "nobody", 1
	if resp, err := hb.RequestWith(ctx, cl); err != nil || resp.ErrorCode != kerr.UnknownMemberID.Code {
		t.Errorf("unknown member heartbeat: %v %v", err, resp)
	}
	m.leave()
	// Empty now: a simple consumer's commit (generation -1) is accepted.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if code := commit("", -1); code == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	off, _ = adm.FetchOffsets(ctx, grp)
	if o, _ := off.Lookup(topic, 0); o.At != 12345 {
		t.Fatalf("simple commit into an empty group: fetched %+v", o)
	}
	var names []string
	for _, l := range mustList(t, adm) {
		names = append(names, l)
	}
	sort.Strings(names)
	if !slices.Contains(names, grp) {
		t.Fatalf("ListGroups %v lacks %s", names, grp)
	}
}

func mustList(t *testing.T, adm *kadm.Client) []string {
	t.Helper()
	lg, err := adm.ListGroups(testCtx(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return lg.Groups()
}

// Power loss: every acknowledged commit is in a crash clone of the file
// system that keeps only synced bytes.
func TestCommitsSurvivePowerLoss(t *testing.T) {
	mem := vfs.NewMem()
	b := brokertest.Start(t, brokertest.WithFS(mem))
	adm := newAdmin(t, b.Addr())
	topic := topicName(t, "pl")
	createTopic(t, adm, topic, 3, nil)
	ctx := testCtx(t, 30*time.Second)
	want := kadm.Offsets{}
	for round := int64(1); round <= 20; round++ {
		os := kadm.Offsets{}
		for p := int32(0); p < 3; p++ {
			os.Add(kadm.Offset{Topic: topic, Partition: p, At: round*10 + int64(p), LeaderEpoch: -1, Metadata: fmt.Sprint("r", round)})
		}
		resp, err := adm.CommitOffsets(ctx, "g-power", os)
		if err != nil || resp.Error() != nil {
			t.Fatalf("commit round %d: %v %v", round, err, resp.Error())
		}
		want = os
	}
	crashed := mem.CrashClone() // every commit above was acknowledged before this
	b.Close()
	after := brokertest.StartConfig(t, broker.Config{Listen: "127.0.0.1:0", DataDir: b.Cfg.DataDir, FS: crashed})
	got, err := newAdmin(t, after.Addr()).FetchOffsets(ctx, "g-power")
	if err != nil {
		t.Fatal(err)
	}
	want.Each(func(o kadm.Offset) {
		g, ok := got.Lookup(o.Topic, o.Partition)
		if !ok || g.At != o.At || g.Metadata != o.Metadata {
			t.Errorf("partition %d after power loss: %+v, want offset %d metadata %q", o.Partition, g, o.At, o.Metadata)
		}
	})
}

// OffsetDelete (KIP-496) removes the offsets of topics the group no longer
// consumes, and refuses topics a member is subscribed to.
func TestOffsetDelete(t *testing.T) {
	b := groupBroker(t)
	adm := newAdmin(t, b.Addr())
	ctx := testCtx(t, 30*time.Second)
	used, old := topicName(t, "used"), topicName(t, "old")
	createTopic(t, adm, used, 1, nil)
	createTopic(t, adm, old, 1, nil)
	grp := "g-offdel"
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: old, Partition: 0, At: 7, LeaderEpoch: -1})
	if _, err := adm.CommitOffsets(ctx, grp, os); err != nil {
		t.Fatal(err)
	}
	m := startMember(t, b.Addr(), grp, used, "only", newConsumed())
	defer m.leave()
	waitStable(t, adm, grp, used, 1, 1)
	resp, err := adm.DeleteOffsets(ctx, grp, kadm.TopicsSet{used: {0: {}}, old: {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp[old][0]; err != nil {
		t.Fatalf("deleting the unused topic's offset: %v", err)
	}
	if err := resp[used][0]; !errors.Is(err, kerr.GroupSubscribedToTopic) {
		t.Fatalf("deleting the consumed topic's offset: %v, want GROUP_SUBSCRIBED_TO_TOPIC", err)
	}
	off, _ := adm.FetchOffsets(ctx, grp)
	if _, ok := off.Lookup(old, 0); ok {
		t.Fatal("the deleted offset is still there")
	}
	if _, err := adm.DeleteOffsets(ctx, "no-such-group", kadm.TopicsSet{old: {0: {}}}); !errors.Is(err, kerr.GroupIDNotFound) {
		t.Fatalf("unknown group: %v, want GROUP_ID_NOT_FOUND", err)
	}
}

// groupMembers describes a group as its state and its member ids, sorted:
// "Stable [id1 id2]".
func groupMembers(t *testing.T, adm *kadm.Client, group string) string {
	t.Helper()
	dg, err := adm.DescribeGroups(testCtx(t, 10*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range dg[group].Members {
		ids = append(ids, m.MemberID)
	}
	slices.Sort(ids)
	return fmt.Sprintf("%s %v", dg[group].State, ids)
}

// A broker restart, even a power loss, does not disturb a group: its
// members were stored with the generation's assignment, so after the
// restart they heartbeat and commit on in the same generation under the
// same member ids. Nobody rejoins, no partition is revoked or lost, and
// consumption goes on from the committed offsets.
func TestGroupKeptAcrossBrokerRestart(t *testing.T) {
	mem := vfs.NewMem()
	b := brokertest.Start(t, brokertest.WithFS(mem), brokertest.WithConfig(func(c *broker.Config) {
		c.GroupMinSessionTimeout = time.Second
		c.GroupInitialRebalanceDelay = -1
	}))
	adm := newAdmin(t, b.Addr())
	topic, grp := topicName(t, "keep"), "g-keep"
	const parts = 4
	createTopic(t, adm, topic, parts, nil)

	var mu sync.Mutex
	var revoked, lost int
	watch := []kgo.Opt{
		kgo.OnPartitionsRevoked(func(context.Context, *kgo.Client, map[string][]int32) {
			mu.Lock()
			revoked++
			mu.Unlock()
		}),
		kgo.OnPartitionsLost(func(context.Context, *kgo.Client, map[string][]int32) {
			mu.Lock()
			lost++
			mu.Unlock()
		}),
		kgo.RetryTimeout(time.Minute),
	}
	c := newConsumed()
	m1 := startMember(t, b.Addr(), grp, topic, "m1", c, watch...)
	m2 := startMember(t, b.Addr(), grp, topic, "m2", c, watch...)
	defer m1.leave()
	defer m2.leave()
	waitStable(t, adm, grp, topic, parts, 2)
	produceTo(t, b.Addr(), topic, parts, 50, 0)
	waitConsumed(t, c, parts*50)
	// What the members say of themselves, and which ids the coordinator
	// holds.
	describe := func(adm *kadm.Client) string {
		t.Helper()
		id1, gen1 := m1.cl.GroupMetadata()
		id2, gen2 := m2.cl.GroupMetadata()
		return fmt.Sprintf("%s; m1 %s in generation %d, m2 %s in generation %d", groupMembers(t, adm, grp), id1, gen1, id2, gen2)
	}
	before := describe(adm)
	mu.Lock()
	revokedBefore, lostBefore := revoked, lost
	mu.Unlock()

	crashed := mem.CrashClone() // the power goes
	b.Close()
	cfg := b.Cfg
	cfg.FS, cfg.Listen, cfg.Logger = crashed, b.Addr(), nil
	after := brokertest.StartConfig(t, cfg)
	adm = newAdmin(t, after.Addr())
	if now := describe(adm); now != before {
		t.Fatalf("after the restart: %s; before it: %s", now, before)
	}
	produceTo(t, after.Addr(), topic, parts, 50, 50)
	waitConsumed(t, c, parts*100)
	if now := describe(adm); now != before {
		t.Fatalf("after consuming on: %s; before the restart: %s", now, before)
	}
	mu.Lock()
	defer mu.Unlock()
	if revoked != revokedBefore || lost != lostBefore {
		t.Fatalf("partitions revoked %d and lost %d times across the restart, want none", revoked-revokedBefore, lost-lostBefore)
	}
}

// librdkafka (python3-confluent-kafka, the seed's at-least-once consumer)
// rides out a broker's power loss the same way: after the restart it
// finds the coordinator again and goes on under the member id it had,
// without a rebalance, and processes every new record exactly once.
func TestPythonConsumerKeptAcrossBrokerRestart(t *testing.T) {
	py := semNeedPythonKafka(t)
	const n, parts = 300, 3
	mem := vfs.NewMem()
	b := brokertest.Start(t, brokertest.WithFS(mem))
	adm := newAdmin(t, b.Addr())
	topic := topicName(t, "pykeep")
	group := topic + "-group"
	createTopic(t, adm, topic, parts, nil)
	_, ends := semProduce(t, b.Addr(), topic, n, parts)
	run := brokertest.StartChild(t, "seed_consumer.py", py, filepath.Join("testdata", "seed_consumer.py"), b.Addr(), group, topic)
	seen := map[int]int{}
	deadline := time.After(90 * time.Second)
	for len(seen) < n {
		seen[semAtoi(t, run.Next(t, deadline))]++
	}
	semWaitCommitted(t, adm, group, topic, ends)
	before := groupMembers(t, adm, group)
	if !strings.HasPrefix(before, "Stable [") || strings.Count(before, " ") != 1 {
		t.Fatalf("before the restart: %s, want one member in a Stable group", before)
	}

	crashed := mem.CrashClone() // the power goes
	b.Close()
	cfg := b.Cfg
	cfg.FS, cfg.Listen, cfg.Logger = crashed, b.Addr(), nil
	after := brokertest.StartConfig(t, cfg)
	adm = newAdmin(t, after.Addr())
	cl := newClient(t, after.Addr(), kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Value: val(n + i)}
	}
	if err := cl.ProduceSync(testCtx(t, 30*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for len(seen) < 2*n {
		seen[semAtoi(t, run.Next(t, deadline))]++
	}
	if now := groupMembers(t, adm, group); now != before {
		t.Fatalf("after the restart the group is %s; before it: %s", now, before)
	}
	for _, l := range run.Stop(t, 30*time.Second) {
		seen[semAtoi(t, l)]++
	}
	for v := n; v < 2*n; v++ {
		if seen[v] != 1 {
			t.Errorf("record %d, produced after the restart, processed %d times", v, seen[v])
		}
	}
}
