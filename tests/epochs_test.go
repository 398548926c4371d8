package tests

// Leader epochs end to end: every start of the broker begins a new epoch
// per partition (see internal/partition/epoch.go for why), the epochs and
// their start offsets survive clean stops, kill -9 and power loss, and
// clients use them as with Kafka: current_leader_epoch fencing in Fetch,
// ListOffsets and OffsetForLeaderEpoch (KIP-320), and franz-go's
// truncation detection through OffsetForLeaderEpoch.

import (
	"bufio"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/partition"
	"sluice/internal/vfs"
)

// roundTrip sends req at exactly its version and decodes the answer.
func (c *rawConn) roundTrip(req kmsg.Request) kmsg.Response {
	c.t.Helper()
	c.request(req, 1)
	resp := req.ResponseKind()
	if err := resp.ReadFrom(c.response(1, req.IsFlexible())); err != nil {
		c.t.Fatalf("decode %T v%d: %v", resp, req.GetVersion(), err)
	}
	return resp
}

// epochEnd asks OffsetForLeaderEpoch at version v.
func epochEnd(c *rawConn, v int16, replica int32, topic string, part, current, epoch int32) kmsg.OffsetForLeaderEpochResponseTopicPartition {
	c.t.Helper()
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.Version, req.ReplicaID = v, replica
	rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = part, current, epoch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := c.roundTrip(req).(*kmsg.OffsetForLeaderEpochResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		c.t.Fatalf("OffsetForLeaderEpoch v%d: %d topics", v, len(resp.Topics))
	}
	return resp.Topics[0].Partitions[0]
}

// listOffset asks ListOffsets at version v for one timestamp.
func listOffset(c *rawConn, v int16, topic string, current int32, ts int64) kmsg.ListOffsetsResponseTopicPartition {
	c.t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version = v
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.CurrentLeaderEpoch, rp.Timestamp = current, ts
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return c.roundTrip(req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
}

// metadataEpoch returns partition 0's leader and leader epoch in Metadata.
func metadataEpoch(c *rawConn, topic string) (int32, int32) {
	c.t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = &topic
	req.Topics = append(req.Topics, mt)
	p := c.roundTrip(req).(*kmsg.MetadataResponse).Topics[0].Partitions[0]
	return p.Leader, p.LeaderEpoch
}

// stopClean stops a child-process broker with SIGTERM.
func stopClean(t *testing.T, p *brokertest.Process) {
	t.Helper()
	if err := p.Stop(); err != nil {
		t.Fatalf("%v\n%s", err, p.Log.String())
	}
}

// A broker restarted cleanly and with kill -9 keeps every partition's
// epochs: each start begins the next epoch, batches carry the epoch that
// wrote them, and OffsetForLeaderEpoch answers from the epochs on disk.
func TestEpochsSurviveRestartsAndKill9(t *testing.T) {
	dir := t.TempDir()
	proc := brokertest.StartProcess(t, dir)
	topic := topicName(t, "epochs")
	createTopic(t, newAdmin(t, proc.Addr), topic, 1, nil)
	produceValues(t, proc.Addr, topic, 0, 3) // epoch 0: [0, 3)
	stopClean(t, proc)
	proc = brokertest.StartProcess(t, dir)
	produceValues(t, proc.Addr, topic, 3, 2) // epoch 1: [3, 5)
	proc.Kill()
	proc = brokertest.StartProcess(t, dir) // epoch 2 writes nothing
	stopClean(t, proc)
	proc = brokertest.StartProcess(t, dir)
	produceValues(t, proc.Addr, topic, 5, 4) // epoch 3: [5, 9)
	checkEpochAnswers(t, proc.Addr, topic, 3)
	proc.Kill()
	proc = brokertest.StartProcess(t, dir)
	checkEpochAnswers(t, proc.Addr, topic, 4)
}

// writtenBy is the epoch that wrote each offset of the test above.
var writtenBy = []int32{0, 0, 0, 1, 1, 3, 3, 3, 3}

func checkEpochAnswers(t *testing.T, addr, topic string, current int32) {
	t.Helper()
	c := dialRaw(t, addr)
	if leader, epoch := metadataEpoch(c, topic); leader != 0 || epoch != current {
		t.Fatalf("metadata: leader %d epoch %d, want 0 and %d", leader, epoch, current)
	}
	var got []int32
	for _, r := range consumeN(t, addr, topic, len(writtenBy)) {
		got = append(got, r.LeaderEpoch)
	}
	if !slices.Equal(got, writtenBy) {
		t.Fatalf("records' leader epochs %v, want %v", got, writtenBy)
	}
	type answer struct {
		epoch int32
		end   int64
	}
	want := map[int32]answer{
		0:           {0, 3}, // ends where epoch 1 began
		1:           {1, 5},
		2:           {1, 5}, // wrote nothing: the epoch before it, and where the next writer began
		3:           {3, 9}, // the log end (current epoch 3), or where epoch 4 began (at 9)
		current:     {current, 9},
		current + 1: {-1, -1}, // a future epoch is undefined
	}
	for v := int16(2); v <= 4; v++ {
		for epoch, w := range want {
			p := epochEnd(c, v, -1, topic, 0, current, epoch)
			if p.ErrorCode != 0 || p.LeaderEpoch != w.epoch || p.EndOffset != w.end {
				t.Errorf("epoch %d at v%d (current %d): code %d, (%d, %d), want (%d, %d)",
					epoch, v, current, p.ErrorCode, p.LeaderEpoch, p.EndOffset, w.epoch, w.end)
			}
		}
	}
	for _, tc := range []struct {
		ts     int64
		offset int64
		epoch  int32
	}{
		{-2, 0, 0},       // earliest: the epoch that wrote it
		{-1, 9, current}, // latest: the current epoch
		{0, 0, 0},        // by timestamp: the record found
	} {
		p := listOffset(c, 8, topic, current, tc.ts)
		if p.ErrorCode != 0 || p.Offset != tc.offset || p.LeaderEpoch != tc.epoch {
			t.Errorf("ListOffsets %d: code %d offset %d epoch %d, want %d epoch %d", tc.ts, p.ErrorCode, p.Offset, p.LeaderEpoch, tc.offset, tc.epoch)
		}
	}
	if p := listOffset(c, 8, topic, current, -3); p.ErrorCode != 0 || p.Offset < 0 || p.LeaderEpoch != writtenBy[p.Offset] {
		t.Errorf("ListOffsets -3: code %d offset %d epoch %d", p.ErrorCode, p.Offset, p.LeaderEpoch)
	}
}

// restartInProcess closes b and starts a broker on the same data dir and
// file system, changed by opts.
func restartInProcess(t *testing.T, b *brokertest.Broker, opts ...brokertest.Option) *brokertest.Broker {
	t.Helper()
	cfg := b.Cfg
	cfg.Logger = nil
	for _, o := range opts {
		o(&cfg)
	}
	b.Close()
	return brokertest.StartConfig(t, cfg)
}

// proxied is an in-process broker behind a fault proxy: clients keep the
// proxy's address (which the broker advertises) while the broker behind
// it restarts on another port.
type proxied struct {
	t     *testing.T
	px    *faultProxy
	b     *brokertest.Broker
	topic string
}

// proxiedTopic starts a proxied broker with a one-partition topic holding
// values 0..n-1.
func proxiedTopic(t *testing.T, suffix string, n int, opts ...brokertest.Option) *proxied {
	t.Helper()
	pb := &proxied{t: t}
	pb.px, pb.b = startProxied(t, opts...)
	pb.topic = topicName(t, suffix)
	createTopic(t, newAdmin(t, pb.Addr()), pb.topic, 1, nil)
	produceValues(t, pb.Addr(), pb.topic, 0, n)
	return pb
}

func (pb *proxied) Addr() string { return pb.px.Addr() }

// restart restarts the broker behind the proxy, its config changed by opts.
func (pb *proxied) restart(opts ...brokertest.Option) {
	pb.t.Helper()
	pb.b = restartInProcess(pb.t, pb.b, opts...)
	pb.px.SetTarget(pb.b.Addr())
}

// When retention moves the log start past an epoch, that epoch is older
// than anything the log holds: it ends at the log start (Kafka's answer),
// and the earliest offset is answered with the epoch that wrote it. A
// restart folds the checkpoint written before the deletion the same way.
func TestOffsetForLeaderEpochBelowLogStart(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "start")
	// Each batch in a segment of its own; retention keeps only the active one.
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, map[string]*string{"segment.bytes": sp("14"), "retention.bytes": sp("1")})
	produceValues(t, b.Addr(), topic, 0, 3) // epoch 0
	b = restartInProcess(t, b)
	produceValues(t, b.Addr(), topic, 3, 3) // epoch 1: [3, 6)
	if n := b.Topics().EnforceRetention(time.Now()); n != 5 {
		t.Fatalf("retention deleted %d segments, want 5", n)
	}
	check := func(current int32) {
		t.Helper()
		c := dialRaw(t, b.Addr())
		for epoch, w := range map[int32][2]int64{0: {0, 5}, 1: {1, 6}} {
			p := epochEnd(c, 4, -1, topic, 0, current, epoch)
			if p.ErrorCode != 0 || int64(p.LeaderEpoch) != w[0] || p.EndOffset != w[1] {
				t.Errorf("epoch %d: code %d (%d, %d), want (%d, %d)", epoch, p.ErrorCode, p.LeaderEpoch, p.EndOffset, w[0], w[1])
			}
		}
		if p := listOffset(c, 8, topic, current, -2); p.ErrorCode != 0 || p.Offset != 5 || p.LeaderEpoch != 1 {
			t.Errorf("earliest: code %d offset %d epoch %d, want 5 epoch 1", p.ErrorCode, p.Offset, p.LeaderEpoch)
		}
	}
	check(1)
	b = restartInProcess(t, b)
	check(2)
}

// A client whose current_leader_epoch is older than the partition's gets
// FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH, in every API that
// carries it and at every version; the partition is not read. The same
// epoch or -1 (no check) is served.
func TestCurrentLeaderEpochFencing(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "fence")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
	produceValues(t, b.Addr(), topic, 0, 2)
	b = restartInProcess(t, b) // epoch 1
	c := dialRaw(t, b.Addr())
	topicID := topicIDOf(t, c, topic)

	cases := map[int32]int16{0: kerr.FencedLeaderEpoch.Code, 2: kerr.UnknownLeaderEpoch.Code, 1: 0, -1: 0}
	for current, code := range cases {
		for _, v := range []int16{9, 12, 13, 16} {
			p := fetchAt(c, v, topic, topicID, current)
			served := p.ErrorCode == 0 && p.HighWatermark == 2 && len(p.RecordBatches) > 0
			if p.ErrorCode != code || (code == 0) != served || (code != 0 && (p.HighWatermark != -1 || len(p.RecordBatches) != 0)) {
				t.Errorf("Fetch v%d current %d: code %d hw %d %d bytes, want code %d", v, current, p.ErrorCode, p.HighWatermark, len(p.RecordBatches), code)
			}
		}
		for _, v := range []int16{4, 8} {
			p := listOffset(c, v, topic, current, -1)
			want := [2]int64{-1, -1}
			if code == 0 {
				want = [2]int64{2, 1}
			}
			if p.ErrorCode != code || p.Offset != want[0] || int64(p.LeaderEpoch) != want[1] {
				t.Errorf("ListOffsets v%d current %d: code %d offset %d epoch %d, want code %d", v, current, p.ErrorCode, p.Offset, p.LeaderEpoch, code)
			}
		}
		// v3 adds replica_id: a consumer (-1), a follower (a node id) or a
		// tool (-2) gets the same answer.
		for _, vr := range [][2]int32{{2, -1}, {3, -1}, {3, 0}, {4, -2}, {4, 0}} {
			p := epochEnd(c, int16(vr[0]), vr[1], topic, 0, current, 0)
			want := [2]int64{-1, -1}
			if code == 0 {
				want = [2]int64{0, 2}
			}
			if p.ErrorCode != code || int64(p.LeaderEpoch) != want[0] || p.EndOffset != want[1] {
				t.Errorf("OffsetForLeaderEpoch v%d replica %d current %d: code %d (%d, %d), want code %d", vr[0], vr[1], current, p.ErrorCode, p.LeaderEpoch, p.EndOffset, code)
			}
		}
	}
	if p := epochEnd(c, 4, -1, topic, 1, -1, 0); p.ErrorCode != kerr.UnknownTopicOrPartition.Code || p.EndOffset != -1 {
		t.Errorf("unknown partition: code %d end %d", p.ErrorCode, p.EndOffset)
	}
	av := c.roundTrip(kmsg.NewPtrApiVersionsRequest()).(*kmsg.ApiVersionsResponse)
	if i := slices.IndexFunc(av.ApiKeys, func(k kmsg.ApiVersionsResponseApiKey) bool { return k.ApiKey == 23 }); i < 0 || av.ApiKeys[i].MinVersion != 2 || av.ApiKeys[i].MaxVersion != 4 {
		t.Errorf("ApiVersions does not advertise OffsetForLeaderEpoch 2-4: %+v", av.ApiKeys)
	}
}

func topicIDOf(t *testing.T, c *rawConn, topic string) [16]byte {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = &topic
	req.Topics = append(req.Topics, mt)
	return c.roundTrip(req).(*kmsg.MetadataResponse).Topics[0].TopicID
}

// fetchAt fetches partition 0 from offset 0 at version v, naming the
// topic by id from v13.
func fetchAt(c *rawConn, v int16, topic string, id [16]byte, current int32) kmsg.FetchResponseTopicPartition {
	c.t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.MaxBytes, req.SessionEpoch = v, 1<<20, -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = 1<<20, current
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return c.roundTrip(req).(*kmsg.FetchResponse).Topics[0].Partitions[0]
}

// pollN polls cl until it has n records, failing on any fetch error
// unless keep accepts it; accepted errors are returned.
func pollN(t *testing.T, cl *kgo.Client, n int, keep func(error) bool) ([]*kgo.Record, []error) {
	t.Helper()
	ctx := testCtx(t, 60*time.Second)
	var recs []*kgo.Record
	var errs []error
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("polled %d of %d records before the deadline (errors %v)", len(recs), n, errs)
		}
		fs.EachError(func(tp string, p int32, err error) {
			if keep == nil || !keep(err) {
				t.Fatalf("fetch %s/%d: %v", tp, p, err)
			}
			errs = append(errs, err)
		})
		recs = append(recs, fs.Records()...)
	}
	if len(recs) != n {
		t.Fatalf("polled %d records, want exactly %d", len(recs), n)
	}
	return recs, errs
}

// checkValues asserts that recs hold values from.. at offsets from.., in
// order, each written by epoch.
func checkValues(t *testing.T, recs []*kgo.Record, from int, epoch int32) {
	t.Helper()
	for i, r := range recs {
		if want := from + i; r.Offset != int64(want) || atoi(t, r.Value) != want || r.LeaderEpoch != epoch {
			t.Fatalf("record %d: offset %d value %s epoch %d, want offset and value %d, epoch %d", i, r.Offset, r.Value, r.LeaderEpoch, want, epoch)
		}
	}
}

// franz-go consumes with its KIP-320 checks on (the broker offers
// OffsetForLeaderEpoch v2+, so the client sends current_leader_epoch and
// validates positions): across a restart it is fenced once, checks where
// the epoch it read ended, finds no loss and goes on exactly where it was.
func TestFranzGoConsumesAcrossRestart(t *testing.T) {
	pb := proxiedTopic(t, "across", 10)
	cl := newClient(t, pb.Addr(), kgo.ConsumeTopics(pb.topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	recs, _ := pollN(t, cl, 10, nil)
	checkValues(t, recs, 0, 0)
	if n := pb.px.Count(apiOffsetForLeaderEpoch); n != 0 {
		t.Fatalf("%d OffsetForLeaderEpoch requests before any restart", n)
	}

	pb.restart()
	produceValues(t, pb.Addr(), pb.topic, 10, 10)
	recs, _ = pollN(t, cl, 10, nil)
	checkValues(t, recs, 10, 1)
	if n := pb.px.Count(apiOffsetForLeaderEpoch); n < 1 {
		t.Fatalf("the consumer never validated its position after the epoch changed (%d OffsetForLeaderEpoch requests)", n)
	}
}

const apiOffsetForLeaderEpoch int16 = 23

// A power loss under fsync=never takes records a consumer had already
// read. The restart begins a new epoch (never reusing the lost one), so
// the consumer, even after producers have refilled the lost offsets, is
// fenced, learns from OffsetForLeaderEpoch where its epoch now ends,
// reports the loss and reads every new record from there. Had the epoch
// stayed, it would have resumed at its old position and silently skipped
// the new records below it.
func TestFranzGoDetectsTruncationAfterPowerLoss(t *testing.T) {
	mem := vfs.NewMem()
	pb := proxiedTopic(t, "loss", 50, brokertest.WithFS(mem), brokertest.WithConfig(func(c *broker.Config) { c.Fsync = partition.FsyncNever }))
	topic := pb.topic
	pb.restart()                               // epoch 0's records synced by the clean stop
	produceValues(t, pb.Addr(), topic, 50, 50) // epoch 1; never synced

	cl := newClient(t, pb.Addr(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	recs, _ := pollN(t, cl, 100, nil)
	checkValues(t, recs[:50], 0, 0)
	checkValues(t, recs[50:], 50, 1)
	cl.PauseFetchTopics(topic)

	crashed := mem.CrashClone() // power loss: offsets 50..99 are gone
	pb.restart(brokertest.WithFS(crashed))
	produceValues(t, pb.Addr(), topic, 50, 150) // epoch 2 refills 50..99 and goes on to 199

	cl.ResumeFetchTopics(topic)
	recs, errs := pollN(t, cl, 150, func(err error) bool {
		var loss *kgo.ErrDataLoss
		return errors.As(err, &loss)
	})
	checkValues(t, recs, 50, 2)
	var loss *kgo.ErrDataLoss
	if len(errs) != 1 || !errors.As(errs[0], &loss) {
		t.Fatalf("want exactly one data-loss report, got %v", errs)
	}
	if got, want := fmt.Sprintf("%+v", *loss), fmt.Sprintf("%+v", kgo.ErrDataLoss{Topic: topic, Partition: 0,
		ConsumedTo: 100, ConsumedToEpoch: 1, ResetTo: 50, ResetToEpoch: 0}); got != want {
		t.Fatalf("data loss reported as %s\nwant %s", got, want)
	}
}

// librdkafka (through kcat) consumes across a restart that bumps the
// epoch: every record exactly once, in order. librdkafka validates
// positions with OffsetForLeaderEpoch v2 (KIP-320) from 2.1; Debian's 2.0,
// which CI installs, sends none (the count is logged), so this proves only
// that an epoch bump does not disturb it.
func TestLibrdkafkaConsumesAcrossRestart(t *testing.T) {
	kcat := needTool(t, "kcat")
	pb := proxiedTopic(t, "rdk", 10)
	cmd := exec.CommandContext(testCtx(t, 60*time.Second), kcat, "-b", pb.Addr(), "-C", "-t", pb.topic, "-p", "0",
		"-o", "beginning", "-c", "20", "-q", "-u", "-E", "-f", "%o %s\n")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &brokertest.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 20)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(i int) {
		t.Helper()
		line, ok := <-lines
		if want := fmt.Sprintf("%d %d", i, i); !ok || line != want {
			t.Fatalf("kcat line %d: %q (open %v), want %q\n%s", i, line, ok, want, stderr.String())
		}
	}
	for i := range 10 {
		next(i)
	}
	pb.restart()
	produceValues(t, pb.Addr(), pb.topic, 10, 10)
	for i := 10; i < 20; i++ {
		next(i)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, stderr.String())
	}
	t.Logf("librdkafka sent %d OffsetForLeaderEpoch requests", pb.px.Count(apiOffsetForLeaderEpoch))
}
