package tests

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
)

// compactedConfigs is a compact-only topic with 64 KiB segments.
func compactedConfigs(extra ...string) map[string]*string {
	cfg := map[string]*string{"cleanup.policy": sp("compact"), "segment.bytes": sp(strconv.Itoa(64 << 10))}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = sp(extra[i+1])
	}
	return cfg
}

// produceRounds writes rounds values of keys key-0..key-(keys-1), value
// "<round>", in round order, acks=all, and returns the latest value per key.
func produceRounds(t *testing.T, cl *kgo.Client, topic string, keys, rounds int) map[string]string {
	t.Helper()
	latest := map[string]string{}
	ctx := testCtx(t, 5*time.Minute)
	for r := range rounds {
		recs := make([]*kgo.Record, 0, keys)
		for k := range keys {
			key := fmt.Sprintf("key-%d", k)
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(strconv.Itoa(r))})
			latest[key] = strconv.Itoa(r)
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce round %d: %v", r, err)
		}
	}
	return latest
}

// rollActive starts a new segment, standing in for segment.ms: records in
// the active segment are never cleaned.
func rollActive(t *testing.T, b *brokertest.Broker, topic string) {
	t.Helper()
	if err := b.Topics().Partition(topic, 0).Roll(); err != nil {
		t.Fatal(err)
	}
}

func cleanNow(t *testing.T, b *brokertest.Broker, want int) {
	t.Helper()
	n, err := b.CleanNow(testCtx(t, 2*time.Minute))
	if err != nil || n != want {
		t.Fatalf("cleaner pass: %d partitions cleaned, %v; want %d", n, err, want)
	}
}

// startCleanerBroker starts a broker whose cleaner runs only when asked.
func startCleanerBroker(t *testing.T, opts ...brokertest.Option) *brokertest.Broker {
	opts = append(opts, brokertest.WithConfig(func(c *broker.Config) { c.CleanerBackoff = time.Hour }))
	return brokertest.Start(t, opts...)
}

func TestCompactionKeepsLatestValuePerKey(t *testing.T) {
	b := startCleanerBroker(t)
	topic := topicName(t, "compact")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, compactedConfigs())
	cl := newClient(t, b.Addr(), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(5*time.Millisecond))
	latest := produceRounds(t, cl, topic, 10_000, 20)
	rollActive(t, b, topic)
	p := b.Topics().Partition(topic, 0)
	before, segsBefore := p.Size(), p.Segments()

	cleanNow(t, b, 1)

	recs := consumeN(t, b.Addr(), topic, 10_000)
	seen := map[string]bool{}
	for _, r := range recs {
		k := string(r.Key)
		if seen[k] || string(r.Value) != latest[k] {
			t.Fatalf("key %s: value %s (seen before: %v), want exactly one, %s", k, r.Value, seen[k], latest[k])
		}
		seen[k] = true
	}
	if p.Size() >= before/10 {
		t.Fatalf("log went from %d bytes in %d segments to %d in %d", before, segsBefore, p.Size(), p.Segments())
	}
	// Nothing is due any more: a second pass cleans nothing. (Segments are
	// grouped by their size before cleaning, as in Kafka, so the small
	// cleaned segments merge when the next dirt comes.)
	cleanNow(t, b, 0)
}

func TestCompactionRemovesTombstonesAfterDeleteRetention(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	b := startCleanerBroker(t, brokertest.WithConfig(func(c *broker.Config) { c.Clock = clock }))
	topic := topicName(t, "tombstones")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, compactedConfigs("delete.retention.ms", "60000"))
	cl := newClient(t, b.Addr(), kgo.DefaultProduceTopic(topic))
	produceRounds(t, cl, topic, 100, 2)
	var tombs []*kgo.Record
	for k := range 30 {
		tombs = append(tombs, &kgo.Record{Key: []byte(fmt.Sprintf("key-%d", k))})
	}
	if err := cl.ProduceSync(testCtx(t, 30*time.Second), tombs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	rollActive(t, b, topic)

	// The first cleaning keeps the tombstones, for delete.retention.ms.
	cleanNow(t, b, 1)
	recs := consumeN(t, b.Addr(), topic, 100)
	if n := countTombstones(recs); n != 30 {
		t.Fatalf("%d tombstones after the first cleaning, want 30", n)
	}
	cleanNow(t, b, 0) // not due yet

	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	cleanNow(t, b, 1)
	recs = consumeN(t, b.Addr(), topic, 70)
	for _, r := range recs {
		k, _ := strconv.Atoi(strings.TrimPrefix(string(r.Key), "key-"))
		if r.Value == nil || k < 30 || string(r.Value) != "1" {
			t.Fatalf("after the delete horizon: key %s value %q is still there", r.Key, r.Value)
		}
	}
}

func countTombstones(recs []*kgo.Record) int {
	n := 0
	for _, r := range recs {
		if r.Value == nil {
			n++
		}
	}
	return n
}

func TestCompactedTopicRefusesRecordsWithoutKey(t *testing.T) {
	b := startCleanerBroker(t)
	topic := topicName(t, "nokey")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, compactedConfigs())
	cl := newClient(t, b.Addr(), kgo.DefaultProduceTopic(topic), kgo.RecordRetries(0))
	err := cl.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Value: []byte("v")}).FirstErr()
	if err != kerr.InvalidRecord {
		t.Fatalf("produce without a key: %v, want INVALID_RECORD", err)
	}
	if err := cl.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Key: []byte("k"), Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if end := b.Topics().Partition(topic, 0).LogEndOffset(); end != 1 {
		t.Fatalf("log end offset %d, want 1: the keyless record must not be written", end)
	}
}

func TestCompactionKill9DuringCleaningLosesNothing(t *testing.T) {
	dir := t.TempDir()
	proc := brokertest.StartProcess(t, dir, "--log-cleaner-backoff", "200ms",
		"--log-cleaner-io-max-bytes-per-second", "300000")
	topic := topicName(t, "kill")
	adm := newAdmin(t, proc.Addr)
	// Nothing is cleanable while the records are young...
	createTopic(t, adm, topic, 1, compactedConfigs("min.cleanable.dirty.ratio", "0.01", "min.compaction.lag.ms", "3600000"))
	cl := newClient(t, proc.Addr, kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(5*time.Millisecond))
	latest := produceRounds(t, cl, topic, 2_000, 10)
	cl.Close()
	if strings.Contains(proc.Log.String(), "commitlog: cleaning started") {
		t.Fatal("a cleaning started within min.compaction.lag.ms")
	}
	// ... until the lag is lifted, after the last acknowledged write.
	alter := []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "min.compaction.lag.ms", Value: sp("0")}}
	if _, err := adm.AlterTopicConfigs(testCtx(t, 10*time.Second), alter, topic); err != nil {
		t.Fatal(err)
	}
	// Kill the broker once the cleaning has swapped in its first cleaned
	// segment, while the throttle keeps it going: some groups are cleaned,
	// others not.
	waitFor(t, proc, 60*time.Second, func() bool {
		return strings.Contains(proc.Log.String(), "commitlog: swapped in cleaned segment")
	})
	proc.Kill()
	tail := proc.Log.String()[strings.LastIndex(proc.Log.String(), "commitlog: cleaning started"):]
	if strings.Contains(tail, "commitlog: cleaned") {
		t.Fatalf("the cleaning finished before the kill:\n%s", tail)
	}

	proc = brokertest.StartProcess(t, dir)
	for _, line := range strings.Split(proc.Log.String(), "\n") {
		if strings.Contains(line, "interrupted cleaning") || strings.Contains(line, "leftover") {
			t.Logf("recovery: %s", line)
		}
	}
	checkLatest(t, proc.Addr, topic, latest)
}

// checkLatest reads the partition from the start and checks that the last
// value of every key is its latest.
func checkLatest(t *testing.T, addr, topic string, latest map[string]string) {
	t.Helper()
	ends, err := newAdmin(t, addr).ListEndOffsets(testCtx(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := testCtx(t, 60*time.Second)
	got := map[string]string{}
	for offset := int64(-1); offset < end.Offset-1; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read up to offset %d of %d", offset, end.Offset)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			got[string(r.Key)] = string(r.Value)
			offset = r.Offset
		})
	}
	for k, v := range latest {
		if got[k] != v {
			t.Fatalf("key %s: last value read %q, want %q", k, got[k], v)
		}
	}
}

// waitFor polls cond, which watches an event (a log line of proc), until
// it holds.
func waitFor(t *testing.T, proc *brokertest.Process, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			log := proc.Log.String()
			t.Fatalf("condition not met in time; broker log ends:\n%s", log[max(0, len(log)-3000):])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRetentionDeletesOnlyWithDeletePolicy(t *testing.T) {
	b := startCleanerBroker(t)
	adm := newAdmin(t, b.Addr())
	old := time.Now().Add(-time.Hour)
	for policy, wantDeleted := range map[string]bool{"compact": false, "compact,delete": true} {
		topic := topicName(t, strings.ReplaceAll(policy, ",", "-"))
		createTopic(t, adm, topic, 1, compactedConfigs("cleanup.policy", policy, "retention.ms", "60000"))
		cl := newClient(t, b.Addr(), kgo.DefaultProduceTopic(topic))
		if err := cl.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Key: []byte("k"), Value: []byte("v"), Timestamp: old}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		rollActive(t, b, topic)
		p := b.Topics().Partition(topic, 0)
		n, err := p.EnforceRetention(time.Now())
		if err != nil || (n == 1) != wantDeleted {
			t.Fatalf("%s: retention deleted %d segments (%v), want deleted=%v", policy, n, err, wantDeleted)
		}
	}
}

// Transactions on a compacted topic: the cleaner discards the records of
// an aborted transaction outright and never lets them displace a
// committed value; it cleans only below the last stable offset.
func TestCompactionDiscardsAbortedTransactions(t *testing.T) {
	b := startCleanerBroker(t)
	topic := topicName(t, "txncompact")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, compactedConfigs())
	cl := newClient(t, b.Addr(), kgo.TransactionalID("cmp-"+topic), kgo.DefaultProduceTopic(topic))
	ctx := testCtx(t, 30*time.Second)
	txn := func(commit bool, kv ...string) {
		t.Helper()
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(kv); i += 2 {
			if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte(kv[i]), Value: []byte(kv[i+1])}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	txn(true, "a", "a1", "b", "b1")
	txn(false, "a", "a2-aborted", "c", "c-aborted")
	txn(true, "b", "b2")
	waitTxnState(t, newAdmin(t, b.Addr()), "cmp-"+topic, "CompleteCommit")
	rollActive(t, b, topic)
	cleanNow(t, b, 1)

	for _, level := range []kgo.IsolationLevel{kgo.ReadCommitted(), kgo.ReadUncommitted()} {
		recs := consumeN(t, b.Addr(), topic, 2, kgo.FetchIsolationLevel(level))
		got := map[string]string{}
		for _, r := range recs {
			got[string(r.Key)] = string(r.Value)
		}
		if got["a"] != "a1" || got["b"] != "b2" || len(got) != 2 {
			t.Fatalf("after cleaning: %v, want a=a1 b=b2 (aborted records gone)", got)
		}
	}
}
