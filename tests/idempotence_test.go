package tests

// The idempotent producer end to end, through the fault-injecting proxy of
// proxy_test.go. Duplicates come from one place (shared/seeds): the broker
// stores a batch, the ack is lost, the producer retries. The proxy makes
// exactly that happen: it lets the broker answer a chosen Produce request,
// swallows the answer and closes the client's connection. Without
// idempotence the retry is stored a second time; with it, the broker
// recognizes the retry (also after a SIGKILL and restart, from the log) and
// every value is stored exactly once, in send order.

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
)

// startProxied starts the proxy, then a broker (with opts) that
// advertises the proxy's address, and points the proxy at the broker.
// Every client request goes through the proxy.
func startProxied(t *testing.T, opts ...brokertest.Option) (*faultProxy, *brokertest.Broker) {
	t.Helper()
	px := newFaultProxy(t)
	opts = append(opts, brokertest.WithConfig(func(c *broker.Config) { c.Advertise = px.Addr() }))
	b := brokertest.Start(t, opts...)
	px.SetTarget(b.Addr())
	return px, b
}

// produceN produces the values 0..n-1 in order with cl, value i to
// partition i%parts (the client must use kgo.ManualPartitioner), and fails
// unless every record is acknowledged.
func produceN(t *testing.T, cl *kgo.Client, topic string, n int, parts int32) {
	t.Helper()
	ctx := testCtx(t, 90*time.Second)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i := range n {
		r := &kgo.Record{Topic: topic, Value: val(i), Partition: int32(i) % parts}
		wg.Add(1)
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("value %d: %w", i, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d records not acknowledged, first: %v", len(errs), n, errs[0])
	}
}

// readPartitions reads every record of topic (through addr) and returns them
// per partition in offset order.
func readPartitions(t *testing.T, addr, topic string) map[int32][]*kgo.Record {
	t.Helper()
	ends, err := newAdmin(t, addr).ListEndOffsets(testCtx(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	ends.Each(func(o kadm.ListedOffset) { total += int(o.Offset) })
	out := map[int32][]*kgo.Record{}
	for _, r := range consumeN(t, addr, topic, total) {
		out[r.Partition] = append(out[r.Partition], r)
	}
	for p, rs := range out {
		slices.SortFunc(rs, func(a, b *kgo.Record) int { return int(a.Offset - b.Offset) })
		for i, r := range rs {
			if r.Offset != int64(i) {
				t.Fatalf("partition %d: record %d has offset %d", p, i, r.Offset)
			}
		}
	}
	return out
}

// valueCounts counts how often each value is stored.
func valueCounts(t *testing.T, parts map[int32][]*kgo.Record) map[int]int {
	t.Helper()
	c := map[int]int{}
	for _, rs := range parts {
		for _, r := range rs {
			c[atoi(t, r.Value)]++
		}
	}
	return c
}

// checkExactlyOnce: the topic holds each of 0..n-1 exactly once and, per
// partition, in send order (increasing values).
func checkExactlyOnce(t *testing.T, parts map[int32][]*kgo.Record, n int) {
	t.Helper()
	total := 0
	for p, rs := range parts {
		total += len(rs)
		last := -1
		for _, r := range rs {
			v := atoi(t, r.Value)
			if v <= last {
				t.Errorf("partition %d offset %d holds %d after %d: duplicate or reordered", p, r.Offset, v, last)
			}
			last = v
		}
	}
	counts := valueCounts(t, parts)
	var dups, missing []int
	for v := range n {
		switch c := counts[v]; {
		case c == 0:
			missing = append(missing, v)
		case c > 1:
			dups = append(dups, v)
		}
	}
	if total != n || len(dups) > 0 || len(missing) > 0 {
		t.Fatalf("topic holds %d records, want exactly %d; %d values stored more than once (first %v), %d missing (first %v)",
			total, n, len(dups), dups[:min(10, len(dups))], len(missing), missing[:min(10, len(missing))])
	}
}

// describeProducers asks the broker for the partition's active producers.
func describeProducers(t *testing.T, cl *kgo.Client, topic string, partition int32) []kmsg.DescribeProducersResponseTopicPartitionActiveProducer {
	t.Helper()
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{partition}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatalf("DescribeProducers: %v", err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("DescribeProducers answered %+v", resp)
	}
	sp := resp.Topics[0].Partitions[0]
	if sp.ErrorCode != 0 {
		t.Fatalf("DescribeProducers %s/%d: error %d", topic, partition, sp.ErrorCode)
	}
	return sp.ActiveProducers
}

// checkOneProducer asserts the partition has exactly cl's producer id with
// last sequence lastSeq.
func checkOneProducer(t *testing.T, cl *kgo.Client, topic string, partition int32, lastSeq int32) {
	t.Helper()
	id, epoch, err := cl.ProducerID(testCtx(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ps := describeProducers(t, cl, topic, partition)
	if len(ps) != 1 || ps[0].ProducerID != id || ps[0].LastSequence != lastSeq {
		t.Fatalf("DescribeProducers %s/%d: %+v; want exactly producer %d (client epoch %d) with last sequence %d", topic, partition, ps, id, epoch, lastSeq)
	}
}

// smallBatches makes franz-go send many Produce requests for a thousand
// tiny records (a few dozen per batch), uncompressed so the test can read
// the values of a dropped request, to the partition produceN chooses.
func smallBatches() []kgo.Opt {
	return []kgo.Opt{kgo.ProducerBatchMaxBytes(1024), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordPartitioner(kgo.ManualPartitioner())}
}

// Control: without idempotence the lost ack makes the producer store the
// dropped request's records twice, and only those. This proves the proxy
// really causes the duplicates the other tests prove absent.
func TestIdempotenceOffStoresDuplicates(t *testing.T) {
	const n = 1000
	px, _ := startProxied(t)
	topic := topicName(t, "idem-off")
	createTopic(t, newAdmin(t, px.Addr()), topic, 1, nil)
	px.DropResponses(nthRequest(apiProduce, 3))
	cl := newClient(t, px.Addr(), append(smallBatches(), kgo.DisableIdempotentWrite(), kgo.RequiredAcks(kgo.AllISRAcks()))...)
	produceN(t, cl, topic, n, 1)

	drops := px.Dropped()
	if len(drops) != 1 {
		t.Fatalf("proxy dropped %d responses, want 1 (produce requests seen: %d)", len(drops), px.Count(apiProduce))
	}
	bs := storedDrop(t, drops[0])
	want := map[int]bool{}
	for _, b := range bs {
		if b.ProducerID != -1 {
			t.Fatalf("a non-idempotent batch carries producer id %d", b.ProducerID)
		}
		for _, v := range b.Values {
			want[atoi(t, v)] = true
		}
	}
	counts := valueCounts(t, readPartitions(t, px.Addr(), topic))
	total, twice := 0, map[int]bool{}
	for v, c := range counts {
		total += c
		if c == 2 {
			twice[v] = true
		} else if c != 1 {
			t.Errorf("value %d stored %d times", v, c)
		}
	}
	t.Logf("dropped 1 response (produce #%d, %d records, %d requests behind it); topic holds %d records for %d produced",
		drops[0].Req.N, len(want), drops[0].Behind, total, n)
	if len(counts) != n {
		t.Fatalf("%d distinct values stored, want %d", len(counts), n)
	}
	if total != n+len(want) {
		t.Fatalf("topic holds %d records, want %d + %d duplicates of the dropped request", total, n, len(want))
	}
	for v := range want {
		if !twice[v] {
			t.Fatalf("value %d of the dropped request is not stored twice", v)
		}
	}
	if len(twice) != len(want) {
		t.Fatalf("%d values stored twice, want the %d of the dropped request", len(twice), len(want))
	}
}

// Idempotence on (franz-go's default): the same lost ack leaves exactly one
// copy of every record, in send order.
func TestIdempotentProducerNoDuplicates(t *testing.T) {
	const n = 1000
	for _, tc := range []struct {
		name   string
		parts  int32
		behind int // requests in flight behind the dropped one, at least
	}{
		{"1partition", 1, 0},
		{"3partitions", 3, 0},
		// franz-go allows up to 5 Produce requests in flight with
		// idempotence (it refuses MaxProduceRequestsInflightPerBroker
		// with idempotence on; 5 is its built-in limit from Produce v4):
		// the proxy holds the dropped response until 3 more are in flight,
		// all of whose responses are lost with the connection.
		{"inflight", 1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			px, _ := startProxied(t)
			topic := topicName(t, "idem-"+tc.name)
			createTopic(t, newAdmin(t, px.Addr()), topic, tc.parts, nil)
			px.DropResponses(nthRequest(apiProduce, 3))
			px.HoldUntilBehind(tc.behind)
			cl := newClient(t, px.Addr(), smallBatches()...)
			produceN(t, cl, topic, n, tc.parts)

			drops := px.Dropped()
			if len(drops) != 1 {
				t.Fatalf("proxy dropped %d responses, want 1 (produce requests seen: %d)", len(drops), px.Count(apiProduce))
			}
			bs := storedDrop(t, drops[0])
			recs := 0
			for _, b := range bs {
				if b.ProducerID < 0 {
					t.Fatalf("idempotent batch without producer id: %+v", b)
				}
				recs += b.NumRecords
			}
			if drops[0].Behind < tc.behind {
				t.Fatalf("only %d produce requests were in flight behind the dropped one, want %d", drops[0].Behind, tc.behind)
			}
			t.Logf("dropped 1 response (produce #%d: %d batches, %d records, %d requests behind it); %d produce requests in all",
				drops[0].Req.N, len(bs), recs, drops[0].Behind, px.Count(apiProduce))

			parts := readPartitions(t, px.Addr(), topic)
			checkExactlyOnce(t, parts, n)
			for p := range tc.parts {
				checkOneProducer(t, cl, topic, p, int32(len(parts[p]))-1)
			}
		})
	}
}

// librdkafka (Debian's python3-confluent-kafka) with enable.idempotence:
// exactly one copy of every record, in order.
func TestIdempotentProducerLibrdkafka(t *testing.T) {
	const n = 1000
	py := semNeedPythonKafka(t)
	px, _ := startProxied(t)
	topic := topicName(t, "idem-rdkafka")
	createTopic(t, newAdmin(t, px.Addr()), topic, 1, nil)
	px.DropResponses(nthRequest(apiProduce, 3))

	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "testdata", "idempotent_producer.py")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, script, px.Addr(), topic, fmt.Sprint(n))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("idempotent_producer.py: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}
	var res struct {
		Delivered int  `json:"delivered"`
		InOrder   bool `json:"in_order"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Delivered != n || !res.InOrder {
		t.Fatalf("librdkafka reports %s", out)
	}

	drops := px.Dropped()
	if len(drops) != 1 {
		t.Fatalf("proxy dropped %d responses, want 1 (produce requests seen: %d)", len(drops), px.Count(apiProduce))
	}
	bs := storedDrop(t, drops[0])
	t.Logf("dropped 1 response (produce v%d #%d, %d records at sequence %d, %d requests behind it); %d produce requests in all",
		drops[0].Req.Version, drops[0].Req.N, bs[0].NumRecords, bs[0].BaseSequence, drops[0].Behind, px.Count(apiProduce))
	checkExactlyOnce(t, readPartitions(t, px.Addr(), topic), n)
}

// sarama with Producer.Idempotent: exactly one copy of every record, in
// order.
func TestSaramaIdempotentProducer(t *testing.T) {
	const n = 1000
	px, _ := startProxied(t)
	topic := topicName(t, "idem-sarama")
	createTopic(t, newAdmin(t, px.Addr()), topic, 1, nil)
	px.DropResponses(nthRequest(apiProduce, 3))

	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Retry.Max = 10
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Flush.Messages = 100 // about ten Produce requests
	cfg.Producer.Flush.MaxMessages = 100
	cfg.Producer.Flush.Frequency = 5 * time.Millisecond
	pr, err := sarama.NewAsyncProducer([]string{px.Addr()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	done := make(chan []string, 1)
	go func() {
		var errs []string
		for range n {
			select {
			case <-pr.Successes():
			case e := <-pr.Errors():
				errs = append(errs, fmt.Sprintf("%s: %v", e.Msg.Value, e.Err))
			}
		}
		done <- errs
	}()
	for i := range n {
		pr.Input() <- &sarama.ProducerMessage{Topic: topic, Partition: 0, Value: sarama.ByteEncoder(val(i))}
	}
	select {
	case errs := <-done:
		if len(errs) > 0 {
			t.Fatalf("%d of %d records failed, first: %v", len(errs), n, errs[0])
		}
	case <-time.After(90 * time.Second):
		t.Fatal("sarama did not acknowledge every record in time")
	}

	drops := px.Dropped()
	if len(drops) != 1 {
		t.Fatalf("proxy dropped %d responses, want 1 (produce requests seen: %d)", len(drops), px.Count(apiProduce))
	}
	bs := storedDrop(t, drops[0])
	t.Logf("dropped 1 response (produce v%d #%d, %d records at sequence %d); %d produce requests in all",
		drops[0].Req.Version, drops[0].Req.N, bs[0].NumRecords, bs[0].BaseSequence, px.Count(apiProduce))
	checkExactlyOnce(t, readPartitions(t, px.Addr(), topic), n)
}

// The key case across a crash: the broker stores a batch, the ack is lost,
// the broker is SIGKILLed before the producer can retry, and the retry
// reaches a restarted broker whose producer state exists only as the log.
// A second SIGKILL lands at an arbitrary point of the stream. Afterwards
// every record is acknowledged and stored exactly once, in order.
func TestIdempotentProducerSurvivesBrokerKill(t *testing.T) {
	const n = 6000
	dir := t.TempDir()
	px := newFaultProxy(t)
	var (
		mu   sync.Mutex
		proc = brokertest.StartProcess(t, dir, "--advertise", px.Addr())
	)
	current := func() *brokertest.Process { mu.Lock(); defer mu.Unlock(); return proc }
	restart := func() {
		t.Helper()
		p := brokertest.StartProcess(t, dir, "--advertise", px.Addr())
		mu.Lock()
		proc = p
		mu.Unlock()
		px.SetTarget(p.Addr)
	}
	px.SetTarget(proc.Addr)
	topic := topicName(t, "idem-kill")
	createTopic(t, newAdmin(t, px.Addr()), topic, 1, nil)

	// Kill 1: when the 10th Produce request has been answered (so its
	// batch is durable, acks=all) the proxy swallows the answer and, while
	// the producer still waits on that connection, the broker is killed.
	px.DropResponses(nthRequest(apiProduce, 10))
	px.OnDrop(func(droppedResponse) {
		current().Kill()
		px.SetTarget("") // refuse clients until the restart
	})

	cl := newClient(t, px.Addr(), kgo.ProducerBatchMaxBytes(2048), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordDeliveryTimeout(2*time.Minute))
	a := newAcked(2 * n / 3)
	var (
		emu      sync.Mutex
		errs     []error
		finished int
	)
	allDone := make(chan struct{}) // closed when every record's promise ran
	ctx := testCtx(t, 3*time.Minute)
	go func() {
		for i := range n {
			cl.Produce(ctx, &kgo.Record{Topic: topic, Value: val(i)}, func(_ *kgo.Record, err error) {
				if err == nil {
					a.add(i)
				}
				emu.Lock()
				defer emu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("value %d: %w", i, err))
				}
				if finished++; finished == n {
					close(allDone)
				}
			})
		}
	}()

	d1 := px.waitDrop(60 * time.Second)
	bs := storedDrop(t, d1)
	t.Logf("kill 1 at produce #%d: its %d records from sequence %d were stored and not acknowledged; %d requests behind it",
		d1.Req.N, bs[0].NumRecords, bs[0].BaseSequence, d1.Behind)
	restart()

	// Kill 2: anywhere, once two thirds of the records are acknowledged.
	select {
	case <-a.at:
	case <-time.After(90 * time.Second):
		t.Fatalf("only %d records acknowledged after the first restart", len(a.snapshot()))
	}
	px.SetTarget("")
	current().Kill()
	acked2 := len(a.snapshot()) // nothing can be acknowledged while the broker is down
	if acked2 >= n {
		t.Fatalf("kill 2 came after the stream ended (%d acknowledged)", acked2)
	}
	t.Logf("kill 2 after %d acknowledgements", acked2)
	restart()

	select {
	case <-allDone:
	case <-time.After(150 * time.Second):
		t.Fatalf("only %d of %d records acknowledged", len(a.snapshot()), n)
	}
	emu.Lock()
	failed := errs
	emu.Unlock()
	if len(failed) > 0 {
		t.Fatalf("%d records failed, first: %v", len(failed), failed[0])
	}
	if got := len(a.snapshot()); got != n {
		t.Fatalf("%d of %d records acknowledged", got, n)
	}
	parts := readPartitions(t, px.Addr(), topic)
	checkExactlyOnce(t, parts, n)
	for i, r := range parts[0] {
		if atoi(t, r.Value) != i {
			t.Fatalf("offset %d holds %s", r.Offset, r.Value)
		}
	}
	checkOneProducer(t, cl, topic, 0, n-1)
	t.Logf("%d produce requests through the proxy, %d responses dropped", px.Count(apiProduce), len(px.Dropped()))
}
