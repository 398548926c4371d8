package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/brokertest"
)

// The fixture: topic "orders" with 10, 20 and 30 records in partitions 0, 1
// and 2, record i stamped base+i seconds; group "orders-app" consumed all
// of them but committed only 4 on partition 0 and 15 on partition 1, then
// left, so it is Empty.
const (
	testTopic = "orders"
	testGroup = "orders-app"
)

var (
	recordsPer = []int{10, 20, 30}
	committed  = map[int32]int64{0: 4, 1: 15}
)

type groupFixture struct {
	addr string
	adm  *kadm.Client
	base time.Time // timestamp of record 0 in every partition
}

func setupGroup(t *testing.T) *groupFixture {
	t.Helper()
	b := brokertest.Start(t)
	f := &groupFixture{addr: b.Addr(), base: time.Now().Add(-time.Hour).Truncate(time.Second)}
	f.adm = kadm.NewClient(newTestClient(t, f.addr))
	resp, err := f.adm.CreateTopic(testContext(t), int32(len(recordsPer)), 1, nil, testTopic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic: %v %v", err, resp.Err)
	}
	f.produce(t)
	f.consumeAndCommit(t)
	f.waitForState(t, "Empty")
	return f
}

var newTestClient = brokertest.Client

func testContext(t *testing.T) context.Context { return brokertest.Context(t, 60*time.Second) }

func (f *groupFixture) produce(t *testing.T) {
	t.Helper()
	cl := newTestClient(t, f.addr, kgo.DisableIdempotentWrite(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for p, n := range recordsPer {
		for i := range n {
			recs = append(recs, &kgo.Record{
				Topic: testTopic, Partition: int32(p), Value: []byte(strconv.Itoa(i)),
				Timestamp: f.base.Add(time.Duration(i) * time.Second),
			})
		}
	}
	if err := cl.ProduceSync(testContext(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// consumeAndCommit reads every record through the group, commits the
// fixture's offsets (not the consumed ones), and leaves.
func (f *groupFixture) consumeAndCommit(t *testing.T) {
	t.Helper()
	ctx := testContext(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr), kgo.ConsumerGroup(testGroup), kgo.ConsumeTopics(testTopic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	total := 0
	for _, n := range recordsPer {
		total += n
	}
	for seen := 0; seen < total; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("group consumer read %d of %d records before the deadline", seen, total)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		seen += fs.NumRecords()
	}
	offsets := map[string]map[int32]kgo.EpochOffset{testTopic: {}}
	for p, o := range committed {
		offsets[testTopic][p] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	var commitErr error
	cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		commitErr = cmpErr(err, commitResponseErr(resp))
	})
	if commitErr != nil {
		t.Fatalf("group commit: %v", commitErr)
	}
}

func commitResponseErr(resp *kmsg.OffsetCommitResponse) error {
	if resp == nil {
		return nil
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				return fmt.Errorf("%s/%d: %w", rt.Topic, rp.Partition, err)
			}
		}
	}
	return nil
}

// waitForState polls DescribeGroups: a consumer's join and leave are
// answered before the group settles, so there is nothing to wait on but
// the state itself.
func (f *groupFixture) waitForState(t *testing.T, state string) kadm.DescribedGroup {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err := f.adm.DescribeGroups(testContext(t), testGroup)
		d := ds[testGroup]
		if err == nil && d.Err == nil && d.State == state {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s never reached state %s: last %q, err %v %v", testGroup, state, d.State, err, d.Err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// commits returns the group's committed offsets on the fixture topic.
func (f *groupFixture) commits(t *testing.T) map[int32]int64 {
	t.Helper()
	rs, err := f.adm.FetchOffsets(testContext(t), testGroup)
	if errors.Is(err, kerr.GroupIDNotFound) { // newer brokers' answer for an unknown group
		return map[int32]int64{}
	}
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	out := map[int32]int64{}
	rs.Each(func(o kadm.OffsetResponse) {
		if o.Topic != testTopic || o.Err != nil {
			t.Fatalf("unexpected offset fetch entry %+v", o)
		}
		out[o.Partition] = o.At
	})
	return out
}

func (f *groupFixture) wantCommits(t *testing.T, what string, want map[int32]int64) {
	t.Helper()
	if got := f.commits(t); !maps.Equal(got, want) {
		t.Fatalf("%s: committed offsets %v, want %v", what, got, want)
	}
}

// run calls the CLI the way main does, against the fixture's broker.
func (f *groupFixture) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLI(append(append([]string{"group"}, args...), "--brokers", f.addr)...)
}

func runCLI(args ...string) (stdout, stderr string, code int) {
	return runCLIIn(strings.NewReader(""), args...)
}

// runCLIIn is runCLI with stdin.
func runCLIIn(stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = Run(args, stdin, &out, &errb)
	return out.String(), errb.String(), code
}

// table returns the rows under the header line that starts with first, up
// to the next blank line, split on whitespace.
func table(t *testing.T, out, first string) [][]string {
	t.Helper()
	var rows [][]string
	in := false
	for line := range strings.SplitSeq(out, "\n") {
		switch {
		case !in && strings.HasPrefix(line, first+" "):
			in = true
		case in && strings.TrimSpace(line) == "":
			return rows
		case in:
			rows = append(rows, strings.Fields(line))
		}
	}
	if !in {
		t.Fatalf("no table headed %q in:\n%s", first, out)
	}
	return rows
}

func wantRows(t *testing.T, what, out string, got, want [][]string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: rows\n  %v\nwant\n  %v\noutput:\n%s", what, got, want, out)
	}
}

func mustRun(t *testing.T, f *groupFixture, args ...string) string {
	t.Helper()
	out, errOut, code := f.run(t, args...)
	if code != 0 {
		t.Fatalf("sluice group %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestGroupListAndDescribeEmptyGroup(t *testing.T) {
	t.Parallel()
	f := setupGroup(t)

	out := mustRun(t, f, "list")
	wantRows(t, "list", out, table(t, out, "GROUP"), [][]string{{testGroup, "Empty", "consumer"}})
	out = mustRun(t, f, "list", "--state", "empty,Stable")
	wantRows(t, "list --state empty,Stable", out, table(t, out, "GROUP"), [][]string{{testGroup, "Empty", "consumer"}})
	if out = mustRun(t, f, "list", "--state", "Stable"); out != "No groups.\n" {
		t.Fatalf("list --state Stable printed\n%s", out)
	}

	out = mustRun(t, f, "describe", testGroup)
	for _, want := range []string{"Group:          " + testGroup, "State:          Empty", "Protocol type:  consumer", "Members:        0", "No active members."} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("describe lacks line %q:\n%s", want, out)
		}
	}
	wantRows(t, "describe", out, table(t, out, "TOPIC"), [][]string{
		{testTopic, "0", "4", "10", "6", "-"},
		{testTopic, "1", "15", "20", "5", "-"},
	})
}

func TestGroupResetOffsets(t *testing.T) {
	t.Parallel()
	f := setupGroup(t)

	out := mustRun(t, f, "reset-offsets", testGroup, "--topic", testTopic, "--to-earliest", "--dry-run")
	wantRows(t, "dry run", out, table(t, out, "TOPIC"), [][]string{
		{testTopic, "0", "4", "0"},
		{testTopic, "1", "15", "0"},
		{testTopic, "2", "-", "0"},
		{"Dry", "run:", "nothing", "committed."},
	})
	f.wantCommits(t, "after --dry-run", committed)

	// Offsets past the log end are clamped to it, per partition.
	out = mustRun(t, f, "reset-offsets", testGroup, "--topic", testTopic, "--partitions", "1,0", "--to-offset", "25")
	wantRows(t, "--to-offset 25", out, table(t, out, "TOPIC"), [][]string{
		{testTopic, "0", "4", "10", "(25", "is", "outside", "the", "log;", "clamped)"},
		{testTopic, "1", "15", "20", "(25", "is", "outside", "the", "log;", "clamped)"},
		{"Committed", "2", "offsets", "for", "group", `"orders-app".`},
	})
	f.wantCommits(t, "after --to-offset 25 on 0,1", map[int32]int64{0: 10, 1: 20})

	steps := []struct {
		args []string
		want map[int32]int64
	}{
		{[]string{"--to-offset", "25"}, map[int32]int64{0: 10, 1: 20, 2: 25}},
		{[]string{"--to-offset", "-3", "--partitions", "2"}, map[int32]int64{0: 10, 1: 20, 2: 0}},
		{[]string{"--to-offset", "7"}, map[int32]int64{0: 7, 1: 7, 2: 7}},
		{[]string{"--to-timestamp", f.base.Add(3 * time.Second).Format(time.RFC3339)}, map[int32]int64{0: 3, 1: 3, 2: 3}},
		{[]string{"--to-timestamp", strconv.FormatInt(f.base.Add(5*time.Second).UnixMilli()-1, 10)}, map[int32]int64{0: 5, 1: 5, 2: 5}},
		// No record at or after the time: the log end, as Kafka's tool does.
		{[]string{"--to-timestamp", strconv.FormatInt(f.base.Add(25*time.Second).UnixMilli(), 10)}, map[int32]int64{0: 10, 1: 20, 2: 25}},
		{[]string{"--to-latest"}, map[int32]int64{0: 10, 1: 20, 2: 30}},
		{[]string{"--to-earliest"}, map[int32]int64{0: 0, 1: 0, 2: 0}},
	}
	for _, s := range steps {
		mustRun(t, f, append([]string{"reset-offsets", testGroup, "--topic", testTopic}, s.args...)...)
		f.wantCommits(t, strings.Join(s.args, " "), s.want)
	}

	// The dry run printed exactly what a real run then commits.
	out = mustRun(t, f, "reset-offsets", "--dry-run", testGroup, "--topic", testTopic, "--to-latest")
	wantRows(t, "dry run --to-latest", out, table(t, out, "TOPIC")[:3], [][]string{
		{testTopic, "0", "0", "10"},
		{testTopic, "1", "0", "20"},
		{testTopic, "2", "0", "30"},
	})
	f.wantCommits(t, "after the second dry run", map[int32]int64{0: 0, 1: 0, 2: 0})
}

// A group with a live member: reset-offsets and delete are refused and
// change nothing; describe shows the member, its assignment, and lag "-"
// where nothing was committed.
func TestGroupWithActiveMember(t *testing.T) {
	t.Parallel()
	f := setupGroup(t)
	stop := f.startMember(t)
	d := f.waitForState(t, "Stable")
	if len(d.Members) != 1 {
		t.Fatalf("stable group has %d members, want 1", len(d.Members))
	}
	member := d.Members[0].MemberID

	out := mustRun(t, f, "describe", testGroup)
	for _, want := range []string{"State:          Stable", "Protocol type:  consumer", "Members:        1"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("describe lacks line %q:\n%s", want, out)
		}
	}
	members := table(t, out, "MEMBER-ID")
	if len(members) != 1 || len(members[0]) != 5 || members[0][0] != member || members[0][1] != "-" ||
		members[0][2] != "live-consumer" || members[0][4] != testTopic+":0,1,2" {
		t.Fatalf("describe members: %v\n%s", members, out)
	}
	wantRows(t, "describe partitions", out, table(t, out, "TOPIC"), [][]string{
		{testTopic, "0", "4", "10", "6", member},
		{testTopic, "1", "15", "20", "5", member},
		{testTopic, "2", "-", "30", "-", member},
	})

	out, errOut, code := f.run(t, "reset-offsets", testGroup, "--topic", testTopic, "--to-earliest")
	if code != 1 || out != "" || !strings.Contains(errOut, `group "orders-app" is Stable with 1 member(s); offsets can only be reset while it has none`) {
		t.Fatalf("reset on a live group: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	f.wantCommits(t, "after the refused reset", committed)

	// The broker is the last line of defence (a member may join between the
	// CLI's check and its commit): a memberless commit must be refused.
	simple := kadm.Offsets{}
	simple.Add(kadm.Offset{Topic: testTopic, Partition: 0, At: 0, LeaderEpoch: -1})
	rs, err := f.adm.CommitOffsets(testContext(t), testGroup, simple)
	if err == nil {
		err = rs.Error()
	}
	if !errors.Is(err, kerr.UnknownMemberID) {
		t.Errorf("broker: simple commit to a Stable group answered %v, want UNKNOWN_MEMBER_ID (Kafka's answer)", err)
	}
	f.wantCommits(t, "after the simple commit to a live group", committed)

	out, errOut, code = f.run(t, "delete", testGroup)
	if code != 1 || out != "" || !strings.Contains(errOut, `group "orders-app": NON_EMPTY_GROUP`) {
		t.Fatalf("delete of a live group: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	f.wantCommits(t, "after the refused delete", committed)

	stop()
	f.waitForState(t, "Empty")
	mustRun(t, f, "reset-offsets", testGroup, "--topic", testTopic, "--partitions", "2", "--to-offset", "12")
	f.wantCommits(t, "after the member left", map[int32]int64{0: 4, 1: 15, 2: 12})
}

// startMember joins the group with a consumer that keeps polling and never
// commits; stop makes it leave.
func (f *groupFixture) startMember(t *testing.T) (stop func()) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr), kgo.ClientID("live-consumer"), kgo.ConsumerGroup(testGroup),
		kgo.ConsumeTopics(testTopic), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx)
		}
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		cl.Close()
	}
	t.Cleanup(stop)
	return stop
}

func TestGroupDelete(t *testing.T) {
	t.Parallel()
	f := setupGroup(t)

	if out := mustRun(t, f, "delete", testGroup); out != "Deleted group \"orders-app\".\n" {
		t.Fatalf("delete printed %q", out)
	}
	f.wantCommits(t, "after delete", map[int32]int64{})

	out, errOut, code := f.run(t, "describe", testGroup)
	if code != 1 || out != "" || !strings.Contains(errOut, `group "orders-app" does not exist`) {
		t.Fatalf("describe of a deleted group: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if out := mustRun(t, f, "list"); out != "No groups.\n" {
		t.Fatalf("list after delete printed\n%s", out)
	}
	out, errOut, code = f.run(t, "delete", testGroup)
	if code != 1 || out != "" || !strings.Contains(errOut, "GROUP_ID_NOT_FOUND") {
		t.Fatalf("second delete: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// An unknown group can be given offsets from scratch, as in Kafka.
	mustRun(t, f, "reset-offsets", testGroup, "--topic", testTopic, "--to-offset", "8")
	f.wantCommits(t, "reset of a deleted group", map[int32]int64{0: 8, 1: 8, 2: 8})
}

func TestGroupUsage(t *testing.T) {
	t.Parallel()
	out, _, code := runCLI("group")
	if code != 0 || !strings.HasPrefix(out, "Usage: sluice group <subcommand>") {
		t.Fatalf("sluice group: exit %d\n%s", code, out)
	}
	if out, _, _ := runCLI(); !strings.Contains(out, "  group    list, describe") {
		t.Fatalf("sluice usage does not list group:\n%s", out)
	}
	// Usage errors never reach the (absent) broker.
	for _, args := range [][]string{
		{"bogus"},
		{"list", "extra"},
		{"list", "--state", "Sleeping"},
		{"describe"},
		{"describe", "a", "b"},
		{"delete"},
		{"reset-offsets", "g", "--to-earliest"},
		{"reset-offsets", "--topic", "t", "--to-earliest"},
		{"reset-offsets", "g", "--topic", "t"},
		{"reset-offsets", "g", "--topic", "t", "--to-earliest", "--to-latest"},
		{"reset-offsets", "g", "--topic", "t", "--to-offset", "ten"},
		{"reset-offsets", "g", "--topic", "t", "--to-timestamp", "yesterday"},
		{"reset-offsets", "g", "--topic", "t", "--to-timestamp", "-2"},
		{"reset-offsets", "g", "--topic", "t", "--partitions", "0,x", "--to-earliest"},
		{"describe", "g", "--no-such-flag"},
	} {
		out, errOut, code := runCLI(append([]string{"group"}, args...)...)
		if code != 2 || out != "" || errOut == "" {
			t.Errorf("sluice group %s: exit %d, stdout %q, stderr %q; want exit 2 and a message on stderr", strings.Join(args, " "), code, out, errOut)
		}
	}
	if _, _, code := runCLI("group", "describe", "-h"); code != 0 {
		t.Errorf("describe -h: exit %d, want 0", code)
	}
}

func TestGroupUnreachableBroker(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: the connection is refused at once.
	out, errOut, code := runCLI("group", "list", "--brokers", "127.0.0.1:1")
	if code != 1 || out != "" || !strings.Contains(errOut, "sluice group list: cannot reach 127.0.0.1:1 (is a broker running there?): dial tcp 127.0.0.1:1: connect: connection refused") {
		t.Fatalf("refused connection: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// A listener that accepts and never answers: --timeout ends the wait.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	addr := ln.Addr().String()
	out, errOut, code = runCLI("group", "describe", "g", "--brokers", addr, "--timeout", "300ms")
	if code != 1 || out != "" || !strings.Contains(errOut, "sluice group describe: no answer from "+addr+" within 300ms: ") {
		t.Fatalf("silent broker: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("gave up after %v, want about the 300ms timeout", d)
	}
}

func TestParseArgsAnyOrder(t *testing.T) {
	for _, args := range [][]string{
		{"g", "--brokers", "x:1"},
		{"--brokers", "x:1", "g"},
		{"--brokers=x:1", "--", "g"},
	} {
		fs, c := newGroupFlags("describe", "describe GROUP", &bytes.Buffer{})
		pos, _, ok := parseArgs(fs, args)
		if !ok || len(pos) != 1 || pos[0] != "g" || c.brokers != "x:1" {
			t.Errorf("parseArgs(%q): pos %q, brokers %q, ok %v", args, pos, c.brokers, ok)
		}
	}
}
