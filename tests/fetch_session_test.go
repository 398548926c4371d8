package tests

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/brokertest"
	"sluice/internal/recordbatch"
)

// sessionConn speaks Fetch at one version over a raw connection, about
// partitions of one topic.
type sessionConn struct {
	t       *testing.T
	raw     *rawConn
	version int16
	corr    int32
	topic   string
	id      [16]byte
}

// sessionTopic creates topic with n partitions and returns a connection
// fetching it at version, and a producer of it with manual partitions.
func sessionTopic(t *testing.T, b *brokertest.Broker, version int16, n int32) (*sessionConn, *kgo.Client) {
	t.Helper()
	adm := newAdmin(t, b.Addr())
	topic := topicName(t, fmt.Sprintf("sess-v%d", version))
	createTopic(t, adm, topic, n, nil)
	details, err := adm.ListTopics(testCtx(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr(), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	return &sessionConn{t: t, raw: dialRaw(t, b.Addr()), version: version, topic: topic, id: details[topic].ID}, prod
}

// fetchReq is one Fetch: the session id and epoch, the partitions it lists
// (partition -> fetch offset) and those it forgets.
type fetchReq struct {
	id, epoch int32
	offsets   map[int32]int64
	forget    []int32
	maxWait   int32
	committed bool // isolation level read_committed
}

func (c *sessionConn) fetch(f fetchReq) *kmsg.FetchResponse {
	c.t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.SessionID, req.SessionEpoch = c.version, f.id, f.epoch
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = f.maxWait, 1, 1<<20
	if f.committed {
		req.IsolationLevel = 1
	}
	if len(f.offsets) > 0 {
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = c.topic, c.id
		for _, p := range slices.Sorted(mapKeys(f.offsets)) {
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = p, f.offsets[p], 1<<20, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	if len(f.forget) > 0 {
		ft := kmsg.NewFetchRequestForgottenTopic()
		ft.Topic, ft.TopicID, ft.Partitions = c.topic, c.id, f.forget
		req.ForgottenTopics = append(req.ForgottenTopics, ft)
	}
	c.corr++
	c.raw.request(req, c.corr)
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	if err := resp.ReadFrom(c.raw.response(c.corr, req.IsFlexible())); err != nil {
		c.t.Fatalf("decode fetch response v%d: %v", c.version, err)
	}
	return resp
}

func mapKeys(m map[int32]int64) func(func(int32) bool) {
	return func(yield func(int32) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// summary writes a response as "p<partition> hw=.. lso=.. off=first..last"
// per partition, in response order; "err=<code>" for a top-level error and
// per partition, "aborted=n" for aborted transactions.
func (c *sessionConn) summary(resp *kmsg.FetchResponse) string {
	c.t.Helper()
	var parts []string
	if resp.ErrorCode != 0 {
		parts = append(parts, fmt.Sprintf("err=%d", resp.ErrorCode))
	}
	for _, rt := range resp.Topics {
		if rt.Topic != c.topic && rt.TopicID != c.id {
			c.t.Fatalf("response names topic %q %x, want %q %x", rt.Topic, rt.TopicID, c.topic, c.id)
		}
		for _, rp := range rt.Partitions {
			s := fmt.Sprintf("p%d hw=%d lso=%d off=%s", rp.Partition, rp.HighWatermark, rp.LastStableOffset, offsets(c.t, rp.RecordBatches))
			if rp.ErrorCode != 0 {
				s += fmt.Sprintf(" err=%d", rp.ErrorCode)
			}
			if len(rp.AbortedTransactions) > 0 {
				s += fmt.Sprintf(" aborted=%d", len(rp.AbortedTransactions))
			}
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

// offsets is "first..last" of the data records in batches, "-" for none.
func offsets(t *testing.T, batches []byte) string {
	first, last := int64(-1), int64(-1)
	for len(batches) > 0 {
		b, err := recordbatch.Frame(batches)
		if err != nil {
			t.Fatalf("response batch: %v", err)
		}
		batches = batches[len(b):]
		if b.IsControl() {
			continue
		}
		if first < 0 {
			first = b.BaseOffset()
		}
		last = b.LastOffset()
	}
	if first < 0 {
		return "-"
	}
	return fmt.Sprintf("%d..%d", first, last)
}

func produceStrings(t *testing.T, prod *kgo.Client, partition int32, values ...string) {
	t.Helper()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Partition: partition, Value: []byte(v)})
	}
	if err := prod.ProduceSync(testCtx(t, 10*time.Second), recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %d: %v", partition, err)
	}
}

func expect(t *testing.T, step, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s:\n got  %q\n want %q", step, got, want)
	}
}

// A session from creation to close, by topic name (v12) and by topic id
// (v13, v16): incremental fetches answer only what changed, partitions
// are added and forgotten, wrong epochs and unknown ids are refused, and
// epoch -1 closes the session.
func TestFetchSessionLifecycle(t *testing.T) {
	b := brokertest.Start(t)
	for _, v := range []int16{7, 12, 13, 16} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) { fetchSessionLifecycle(t, b, v) })
	}
}

func fetchSessionLifecycle(t *testing.T, b *brokertest.Broker, v int16) {
	c, prod := sessionTopic(t, b, v, 4)
	produceStrings(t, prod, 0, "a")

	resp := c.fetch(fetchReq{epoch: 0, offsets: map[int32]int64{0: 0, 1: 0, 2: 0}})
	id := resp.SessionID
	if id <= 0 {
		t.Fatalf("full fetch at epoch 0: session id %d, want a new session", id)
	}
	expect(t, "full fetch", c.summary(resp), "p0 hw=1 lso=1 off=0..0; p1 hw=0 lso=0 off=-; p2 hw=0 lso=0 off=-")

	// p0's position moved past its record: nothing is new anywhere.
	resp = c.fetch(fetchReq{id: id, epoch: 1, offsets: map[int32]int64{0: 1}})
	if resp.SessionID != id {
		t.Fatalf("incremental answer names session %d, want %d", resp.SessionID, id)
	}
	expect(t, "nothing new", c.summary(resp), "")

	produceStrings(t, prod, 2, "b", "c")
	expect(t, "p2 got records", c.summary(c.fetch(fetchReq{id: id, epoch: 2})), "p2 hw=2 lso=2 off=0..1")
	expect(t, "p2 moved on", c.summary(c.fetch(fetchReq{id: id, epoch: 3, offsets: map[int32]int64{2: 2}})), "")

	// An added partition is answered once, whatever it holds.
	expect(t, "p3 added", c.summary(c.fetch(fetchReq{id: id, epoch: 4, offsets: map[int32]int64{3: 0}})), "p3 hw=0 lso=0 off=-")

	// A forgotten partition is not read any more, though it has news.
	expect(t, "p0 forgotten", c.summary(c.fetch(fetchReq{id: id, epoch: 5, forget: []int32{0}})), "")
	produceStrings(t, prod, 0, "d")
	produceStrings(t, prod, 1, "e")
	expect(t, "only p1 read", c.summary(c.fetch(fetchReq{id: id, epoch: 6})), "p1 hw=1 lso=1 off=0..0")

	// A wrong epoch is refused and leaves the session as it was.
	expect(t, "epoch from the future", c.summary(c.fetch(fetchReq{id: id, epoch: 9})), fmt.Sprintf("err=%d", kerr.InvalidFetchSessionEpoch.Code))
	expect(t, "epoch repeated", c.summary(c.fetch(fetchReq{id: id, epoch: 6})), fmt.Sprintf("err=%d", kerr.InvalidFetchSessionEpoch.Code))
	expect(t, "right epoch after the refusals", c.summary(c.fetch(fetchReq{id: id, epoch: 7, offsets: map[int32]int64{1: 1}})), "")

	unknown := id ^ 0x40000000
	expect(t, "unknown session id", c.summary(c.fetch(fetchReq{id: unknown, epoch: 1})), fmt.Sprintf("err=%d", kerr.FetchSessionIDNotFound.Code))

	// Epoch -1 closes the session and is answered as a sessionless full fetch.
	resp = c.fetch(fetchReq{id: id, epoch: -1, offsets: map[int32]int64{0: 1, 1: 1}})
	if resp.SessionID != 0 {
		t.Fatalf("closing fetch answered with session id %d, want 0", resp.SessionID)
	}
	expect(t, "closing fetch", c.summary(resp), "p0 hw=2 lso=2 off=1..1; p1 hw=1 lso=1 off=-")
	expect(t, "after close", c.summary(c.fetch(fetchReq{id: id, epoch: 8})), fmt.Sprintf("err=%d", kerr.FetchSessionIDNotFound.Code))
}

// Every sessionless form is answered in full with session id 0 and
// creates nothing: -1/-1 (segmentio/kafka-go, issue 13), 0/-1 (librdkafka,
// sarama), and versions before sessions.
func TestSessionlessFetchForms(t *testing.T) {
	b := brokertest.Start(t)
	for _, tc := range []struct {
		version   int16
		id, epoch int32
	}{{4, 0, 0}, {6, 0, 0}, {7, -1, -1}, {7, 0, -1}, {11, -1, -1}, {12, 0, -1}, {13, -1, -1}, {16, 0, -1}, {16, -1, -1}} {
		t.Run(fmt.Sprintf("v%d/%d/%d", tc.version, tc.id, tc.epoch), func(t *testing.T) {
			c, prod := sessionTopic(t, b, tc.version, 2)
			produceStrings(t, prod, 1, "x", "y")
			for round := range 2 { // the same answer twice: nothing was remembered
				resp := c.fetch(fetchReq{id: tc.id, epoch: tc.epoch, offsets: map[int32]int64{0: 0, 1: 0}})
				if resp.SessionID != 0 {
					t.Fatalf("round %d: session id %d, want 0", round, resp.SessionID)
				}
				expect(t, "sessionless", c.summary(resp), "p0 hw=0 lso=0 off=-; p1 hw=2 lso=2 off=0..1")
			}
			if n := b.FetchSessions(); n != 0 {
				t.Fatalf("%d sessions held after sessionless fetches, want 0", n)
			}
		})
	}
}

// A session made with topic ids is refused to a version naming topics,
// and the reverse (KIP-516).
func TestFetchSessionTopicIDsAreNotMixed(t *testing.T) {
	b := brokertest.Start(t)
	byID, _ := sessionTopic(t, b, 13, 1)
	id := byID.fetch(fetchReq{epoch: 0, offsets: map[int32]int64{0: 0}}).SessionID
	byName := &sessionConn{t: t, raw: dialRaw(t, b.Addr()), version: 12, topic: byID.topic, id: byID.id}
	expect(t, "v12 on a v13 session", byName.summary(byName.fetch(fetchReq{id: id, epoch: 1})), fmt.Sprintf("err=%d", kerr.FetchSessionTopicIDError.Code))
	expect(t, "v13 still works", byID.summary(byID.fetch(fetchReq{id: id, epoch: 1})), "")
}

// A long poll in a session waits for news on any session partition,
// including ones the request did not list, and answers only that
// partition; with no news it answers nothing after max_wait.
func TestFetchSessionLongPoll(t *testing.T) {
	b := brokertest.Start(t)
	c, prod := sessionTopic(t, b, 16, 3)
	id := c.fetch(fetchReq{epoch: 0, offsets: map[int32]int64{0: 0, 1: 0, 2: 0}}).SessionID

	start := time.Now()
	expect(t, "empty long poll", c.summary(c.fetch(fetchReq{id: id, epoch: 1, maxWait: 300})), "")
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("empty long poll answered after %v, before max_wait", waited)
	}

	// The request is on the wire before the record is produced; either way
	// the answer is the record, and it comes long before max_wait.
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.SessionID, req.SessionEpoch, req.MaxWaitMillis, req.MinBytes = 16, id, 2, 10_000, 1
	c.corr++
	c.raw.request(req, c.corr)
	start = time.Now()
	produceStrings(t, prod, 1, "late")
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	if err := resp.ReadFrom(c.raw.response(c.corr, true)); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("long poll answered after %v", waited)
	}
	expect(t, "woken long poll", c.summary(resp), "p1 hw=1 lso=1 off=0..0")
}

// read_committed in a session: an open transaction moves the high
// watermark but not the last stable offset, so the partition is answered
// without records; its commit releases them, an abort lists itself.
func TestFetchSessionReadCommitted(t *testing.T) {
	b := brokertest.Start(t)
	c, _ := sessionTopic(t, b, 16, 2)
	txn := newClient(t, b.Addr(), kgo.TransactionalID("sess-"+c.topic), kgo.DefaultProduceTopic(c.topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionTimeout(30*time.Second))
	id := c.fetch(fetchReq{epoch: 0, offsets: map[int32]int64{0: 0, 1: 0}, committed: true}).SessionID

	ctx := testCtx(t, 30*time.Second)
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte("aborted")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	expect(t, "open transaction", c.summary(c.fetch(fetchReq{id: id, epoch: 1, committed: true})), "p0 hw=1 lso=0 off=-")
	if err := txn.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte("kept")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	// Offsets: 0 the aborted record, 1 its marker, 2 the kept record, 3
	// its marker, which may still be on its way: a long poll from 2 waits
	// for it (the high watermark reaching 3 alone does not end the wait).
	expect(t, "after commit", c.summary(c.fetch(fetchReq{id: id, epoch: 2, offsets: map[int32]int64{0: 2}, maxWait: 10_000, committed: true})),
		"p0 hw=4 lso=4 off=2..2")
	// Read again from 0: the records are answered with the aborted
	// transaction listed, though the offsets did not change.
	expect(t, "from the start", c.summary(c.fetch(fetchReq{id: id, epoch: 3, offsets: map[int32]int64{0: 0}, committed: true})),
		"p0 hw=4 lso=4 off=0..2 aborted=1")
}

// A franz-go consumer of 200 partitions (fetch sessions are its default)
// reads exactly what was produced, in order per partition, across two
// rounds of produce, and does it all in one session it never had to
// reset.
func TestFranzGoConsumesTwoHundredPartitionsInASession(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "sess200")
	const partitions, perRound = 200, 5
	createTopic(t, newAdmin(t, b.Addr()), topic, partitions, nil)
	cl := newClient(t, b.Addr(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	next := make([]int, partitions)
	for round := range 2 {
		produceTo(t, b.Addr(), topic, partitions, perRound, round*perRound)
		pollExactly(t, cl, partitions*perRound, func(r *kgo.Record) {
			if got := atoi(t, r.Value); got != next[r.Partition] || r.Offset != int64(got) {
				t.Fatalf("partition %d: value %d at offset %d, want %d", r.Partition, got, r.Offset, next[r.Partition])
			}
			next[r.Partition]++
		})
	}
	for p, n := range next {
		if n != 2*perRound {
			t.Fatalf("partition %d: read %d records, want %d", p, n, 2*perRound)
		}
	}
	if n := b.FetchSessions(); n != 1 {
		t.Fatalf("%d fetch sessions held, want the consumer's one", n)
	}
}

// pollExactly polls cl until n records have arrived, passing each to fn;
// more than n in the poll that completes them fails.
func pollExactly(t *testing.T, cl *kgo.Client, n int, fn func(*kgo.Record)) {
	t.Helper()
	ctx := testCtx(t, 60*time.Second)
	got := 0
	for got < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records before the deadline", got, n)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) { got++; fn(r) })
	}
	if got != n {
		t.Fatalf("read %d records, want exactly %d", got, n)
	}
}

// A partition that fails is in every answer of its session, and at once
// rather than after max_wait: here its topic was deleted, which a session
// by name answers UNKNOWN_TOPIC_OR_PARTITION and a session by id
// UNKNOWN_TOPIC_ID.
func TestFetchSessionAnswersFailuresEveryTime(t *testing.T) {
	b := brokertest.Start(t)
	for _, tc := range []struct {
		version int16
		code    int16
	}{{12, kerr.UnknownTopicOrPartition.Code}, {13, kerr.UnknownTopicID.Code}} {
		t.Run(fmt.Sprintf("v%d", tc.version), func(t *testing.T) {
			c, _ := sessionTopic(t, b, tc.version, 1)
			id := c.fetch(fetchReq{epoch: 0, offsets: map[int32]int64{0: 0}}).SessionID
			if _, err := newAdmin(t, b.Addr()).DeleteTopic(testCtx(t, 10*time.Second), c.topic); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("p0 hw=-1 lso=-1 off=- err=%d", tc.code)
			for epoch := int32(1); epoch <= 2; epoch++ {
				start := time.Now()
				expect(t, fmt.Sprintf("epoch %d", epoch), c.summary(c.fetch(fetchReq{id: id, epoch: epoch, maxWait: 10_000})), want)
				if waited := time.Since(start); waited > 5*time.Second {
					t.Fatalf("failure answered after %v, want at once", waited)
				}
			}
		})
	}
}
