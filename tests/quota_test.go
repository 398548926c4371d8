package tests

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/partition"
)

// setQuota sets one client quota through kadm and fails on any error.
func setQuota(t *testing.T, adm *kadm.Client, entityType string, name *string, key string, value float64) {
	t.Helper()
	res, err := adm.AlterClientQuotas(testCtx(t, 10*time.Second), []kadm.AlterClientQuotaEntry{{
		Entity: kadm.ClientQuotaEntity{{Type: entityType, Name: name}},
		Ops:    []kadm.AlterClientQuotaOp{{Key: key, Value: value}},
	}})
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("set %s=%g: %+v %v", key, value, res, err)
	}
}

// throttled is closed at the first response that throttles its client
// (kgo.HookBrokerThrottle).
type throttled struct {
	once sync.Once
	ch   chan struct{}
}

func newThrottled() *throttled { return &throttled{ch: make(chan struct{})} }

func (h *throttled) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	if d > 0 {
		h.once.Do(func() { close(h.ch) })
	}
}

func (h *throttled) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-h.ch:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s was never throttled", what)
	}
}

// counter is the bytes of record values a client has moved so far.
type counter struct{ n atomic.Int64 }

// rate is how many bytes per second c moves over the next d: a
// throughput is a count over a span of time, so this one waits.
func (c *counter) rate(d time.Duration) float64 {
	n0, t0 := c.n.Load(), time.Now()
	time.Sleep(d)
	return float64(c.n.Load()-n0) / time.Since(t0).Seconds()
}

const quotaValueBytes = 10 << 10

// produceFlat produces 10 KiB records to topic as fast as the broker takes
// them, as client id, until ctx ends, counting the acknowledged bytes.
// Requests stay small (64 KiB batches), so that one request is a small
// part of what a measurement counts.
func produceFlat(ctx context.Context, t *testing.T, addr, clientID, topic string, c *counter, hooks ...kgo.Hook) *sync.WaitGroup {
	cl := newClient(t, addr, kgo.ClientID(clientID), kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.LeaderAck()),
		kgo.DisableIdempotentWrite(), kgo.ProducerBatchMaxBytes(64<<10), kgo.MaxBufferedRecords(64),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.WithHooks(hooks...))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		value := make([]byte, quotaValueBytes)
		for ctx.Err() == nil {
			cl.Produce(ctx, &kgo.Record{Value: value}, func(r *kgo.Record, err error) {
				if err == nil {
					c.n.Add(int64(len(r.Value)))
				}
			})
		}
	}()
	return &wg
}

func within(t *testing.T, what string, got, want, tolerance float64) {
	t.Helper()
	if math.Abs(got-want) > tolerance*want {
		t.Fatalf("%s: %.0f bytes/s, want %.0f ± %.0f%%", what, got, want, tolerance*100)
	}
	t.Logf("%s: %.0f bytes/s (%.1f%% of %.0f)", what, got, 100*got/want, want)
}

// The test: a client over its producer_byte_rate is throttled to
// within 10% of the quota, while another client producing as fast as it
// can beside it keeps its throughput.
//
// The throttled client is measured tightly, from its first throttled
// response on (before it, it spends the quota's burst), against the
// quota, which it cannot exceed whatever the machine's speed. The other
// client is measured against its own rate alone, measured in the same
// test just before and just after; the bound is generous (60% of the
// lower of the two), since the machine is shared, yet above the half
// it would get were the throttled client not held back.
func TestProduceQuotaThrottlesOneClientOnly(t *testing.T) {
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) { c.Fsync = partition.FsyncNever }))
	adm := newAdmin(t, b.Addr())
	createTopic(t, adm, "fast", 1, nil)
	createTopic(t, adm, "slow", 1, nil)
	const q = 1 << 20
	setQuota(t, adm, "client-id", kmsg.StringPtr("slow"), "producer_byte_rate", q)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var fast, slow counter
	fastDone := produceFlat(ctx, t, b.Addr(), "fast", "fast", &fast)
	fast.rate(time.Second) // warm up
	solo := fast.rate(2 * time.Second)

	hook := newThrottled()
	slowCtx, stopSlow := context.WithCancel(ctx)
	slowDone := produceFlat(slowCtx, t, b.Addr(), "slow", "slow", &slow, hook)
	hook.wait(t, "the slow producer")
	var slowRate, pair float64
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); slowRate = slow.rate(6 * time.Second) }()
	go func() { defer wg.Done(); pair = fast.rate(6 * time.Second) }()
	wg.Wait()
	stopSlow()
	slowDone.Wait()
	soloAfter := fast.rate(2 * time.Second)
	cancel()
	fastDone.Wait()

	within(t, "throttled producer", slowRate, q, 0.10)
	if lo := min(solo, soloAfter); pair < 0.6*lo {
		t.Fatalf("unthrottled producer: %.0f bytes/s beside the throttled one, %.0f and %.0f alone", pair, solo, soloAfter)
	}
	t.Logf("unthrottled producer: %.0f bytes/s beside the throttled one, %.0f and %.0f alone", pair, solo, soloAfter)
}

// A consumer over its consumer_byte_rate is throttled to within 10% of
// the quota: its fetches that would go over come back empty with the
// throttle time, and it asks again after it.
func TestFetchQuotaThrottlesConsumer(t *testing.T) {
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) {
		c.Fsync = partition.FsyncNever
		c.QuotaWindows = 2 // a burst of two seconds' worth, so the topic need not be large
	}))
	adm := newAdmin(t, b.Addr())
	createTopic(t, adm, "read", 1, nil)
	const q = 1 << 20
	fill := newClient(t, b.Addr(), kgo.DefaultProduceTopic("read"), kgo.ProducerBatchMaxBytes(64<<10),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	value := make([]byte, quotaValueBytes)
	recs := make([]*kgo.Record, 0, 1200) // 12 MiB: the burst, the settling and six seconds of the quota, and more
	for range cap(recs) {
		recs = append(recs, &kgo.Record{Value: value})
	}
	if err := fill.ProduceSync(testCtx(t, 60*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	setQuota(t, adm, "client-id", kmsg.StringPtr("reader"), "consumer_byte_rate", q)

	hook := newThrottled()
	cl := newClient(t, b.Addr(), kgo.ClientID("reader"), kgo.ConsumeTopics("read"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(64<<10), kgo.FetchMaxPartitionBytes(64<<10), kgo.WithHooks(hook))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got counter
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got.n.Add(int64(len(r.Value))) })
		}
	}()
	hook.wait(t, "the consumer")
	rate := got.rate(6 * time.Second)
	cancel()
	<-done
	if got.n.Load() >= int64(len(recs)*quotaValueBytes) {
		t.Fatal("the consumer read everything: the measurement ran past the end of the topic")
	}
	within(t, "throttled consumer", rate, q, 0.10)
}

// A client over its request_percentage is throttled on any request, for
// at most one quota window (KIP-124).
func TestRequestPercentageThrottles(t *testing.T) {
	b := brokertest.Start(t)
	// 0.001% of a thread: the burst is 0.11 ms of handling time, which a
	// few requests use up.
	setQuota(t, newAdmin(t, b.Addr()), "client-id", kmsg.StringPtr("busy"), "request_percentage", 0.001)
	cl := newClient(t, b.Addr(), kgo.ClientID("busy"))
	for i := range 10000 {
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(testCtx(t, 30*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ThrottleMillis > 0 {
			if resp.ThrottleMillis > 1000 {
				t.Fatalf("throttled %d ms, more than the one-second window", resp.ThrottleMillis)
			}
			t.Logf("throttled %d ms at request %d", resp.ThrottleMillis, i)
			return
		}
	}
	t.Fatal("10000 requests, none throttled")
}

// KIP-219: a throttled response is sent at once, and the broker then reads
// nothing more from the connection until the throttle time has passed; a
// client of a version before it gets its response only after that time.
func TestThrottledConnectionIsMuted(t *testing.T) {
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) { c.QuotaWindows = 1; c.MetricsListen = "127.0.0.1:0" }))
	adm := newAdmin(t, b.Addr())
	createTopic(t, adm, "muted", 1, nil)
	// The raw connections send no client id: the default client id's
	// quota is theirs, each connection's alike (one bucket: client id "").
	const q = 64 << 10
	setQuota(t, adm, "client-id", nil, "producer_byte_rate", q)

	batch := func() []byte { return encodeBatch(t, string(make([]byte, 96<<10))) }
	produce := func(version int16) *kmsg.ProduceRequest {
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis = version, 1, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "muted"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = batch()
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return req
	}
	// The bucket starts full (q bytes) and the request is larger: the
	// throttle is the excess over the quota.
	req := produce(9)
	frameLen := len(requestFrame(req, 1))
	want := time.Duration(math.Round(float64(frameLen-q) / q * float64(time.Second))).Milliseconds()

	c := dialRaw(t, b.Addr())
	c.request(req, 1)
	c.request(kmsg.NewPtrApiVersionsRequest(), 2)
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = 9
	if err := resp.ReadFrom(c.response(1, true)); err != nil {
		t.Fatal(err)
	}
	answered := time.Now()
	if int64(resp.ThrottleMillis) != want {
		t.Fatalf("throttle_time_ms %d, want %d", resp.ThrottleMillis, want)
	}
	c.response(2, false)
	if waited := time.Since(answered); waited < time.Duration(want)*time.Millisecond-50*time.Millisecond {
		t.Fatalf("the next request was answered %v after a throttle of %d ms", waited, want)
	}

	// Produce v5 predates KIP-219: the response itself waits. The bucket
	// holds at most the quota's one second now, and the request is half
	// as large again.
	c = dialRaw(t, b.Addr())
	sent := time.Now()
	c.request(produce(5), 3)
	resp = kmsg.NewPtrProduceResponse()
	resp.Version = 5
	if err := resp.ReadFrom(c.response(3, false)); err != nil {
		t.Fatal(err)
	}
	if resp.ThrottleMillis < 400 || time.Since(sent) < time.Duration(resp.ThrottleMillis)*time.Millisecond {
		t.Fatalf("v5 response after %v with throttle_time_ms %d, want it delayed by a throttle of about half a second or more", time.Since(sent), resp.ThrottleMillis)
	}

	// Both throttled responses are counted, with the throttle they carried
	// (each rounded to the millisecond it was sent as).
	m := scrape(t, b.MetricsAddr())
	if got := metricValue(t, m, "sluice_requests_throttled_total", "request", "Produce"); got != 2 {
		t.Fatalf("sluice_requests_throttled_total{Produce} %v, want 2", got)
	}
	total := float64(want+int64(resp.ThrottleMillis)) / 1000
	if got := metricValue(t, m, "sluice_request_throttle_seconds_total", "request", "Produce"); math.Abs(got-total) > 0.002 {
		t.Fatalf("sluice_request_throttle_seconds_total{Produce} %v, want %v", got, total)
	}
}

// User quotas (KIP-55) follow the connection's SASL principal, and the
// most specific entity wins: alice's quota throttles alice under any
// client id but the one her user-and-client-id quota lifts, and bob has
// none.
func TestUserQuotaFollowsPrincipal(t *testing.T) {
	b := saslBroker(t, brokertest.WithConfig(func(c *broker.Config) {
		c.SASLPlainUsers = map[string]string{plainUser: plainPass, alice: alicePass, bob: bobPass}
		c.QuotaWindows = 1
	}))
	admin := userClient(t, b.Addr(), plainUser, plainPass)
	createTopic(t, kadm.NewClient(admin), "users", 1, nil)
	wantLines(t, "set", alterQuotas(t, admin, false,
		quotaEntry{quotaEntity("user", alice), []quotaOp{{key: "producer_byte_rate", value: 1024}}},
		quotaEntry{quotaEntity("user", alice, "client-id", "vip"), []quotaOp{{key: "producer_byte_rate", value: 1 << 30}}},
	), "ok", "ok")

	throttleOf := func(user, pass, clientID string) int32 {
		cl := userClient(t, b.Addr(), user, pass, kgo.ClientID(clientID))
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = 1, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "users"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = encodeBatch(t, string(make([]byte, 8<<10)))
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := requestBroker(t, cl, req).(*kmsg.ProduceResponse)
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
			t.Fatalf("%s/%s produce: code %d", user, clientID, code)
		}
		return resp.ThrottleMillis
	}
	// 8 KiB and some over a 1 KiB burst at 1 KiB/s: about 7 seconds.
	if ms := throttleOf(alice, alicePass, "app"); ms < 6000 || ms > 9000 {
		t.Fatalf("alice as app: throttle_time_ms %d, want about 7000", ms)
	}
	if ms := throttleOf(alice, alicePass, "vip"); ms != 0 {
		t.Fatalf("alice as vip: throttle_time_ms %d, want 0", ms)
	}
	if ms := throttleOf(bob, bobPass, "app"); ms != 0 {
		t.Fatalf("bob: throttle_time_ms %d, want 0", ms)
	}
}
