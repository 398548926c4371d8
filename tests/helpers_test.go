// Package tests holds Sluice's end-to-end tests: a real broker over TCP,
// real clients (franz-go, kcat), crashes with SIGKILL and simulated power
// loss.
package tests

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"sluice/internal/brokertest"
)

// The tests' names for brokertest's client helpers.
var (
	newClient = brokertest.Client  // a franz-go client for addr, closed at test end
	newAdmin  = brokertest.Admin   // a kadm client for addr
	testCtx   = brokertest.Context // a context that ends after d or with the test
)

// createTopic creates a topic and fails the test on any error.
func createTopic(t testing.TB, adm *kadm.Client, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	resp, err := adm.CreateTopic(testCtx(t, 10*time.Second), partitions, 1, configs, name)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", name, err, resp.Err)
	}
}

// consumeN reads exactly n records of topic from the start (no group) and
// fails if they do not arrive in time or more arrive.
func consumeN(t testing.TB, addr, topic string, n int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	base := []kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	cl := newClient(t, addr, append(base, opts...)...)
	ctx := testCtx(t, 60*time.Second)
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records of %s before the deadline", len(out), n, topic)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		out = append(out, fs.Records()...)
	}
	if len(out) != n {
		t.Fatalf("consumed %d records of %s, want exactly %d", len(out), topic, n)
	}
	return out
}

func val(i int) []byte { return []byte(strconv.Itoa(i)) }

func atoi(t testing.TB, b []byte) int {
	t.Helper()
	n, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatalf("record value %q: %v", b, err)
	}
	return n
}

// topicName makes a name unique to the test.
func topicName(t testing.TB, suffix string) string {
	return fmt.Sprintf("t-%d-%s", time.Now().UnixNano()%1e9, suffix)
}

// requestBroker sends req to the broker itself: franz-go would otherwise
// split a DeleteRecords by partition leader and answer an unknown topic
// itself, without asking.
func requestBroker(t *testing.T, cl *kgo.Client, req kmsg.Request) kmsg.Response {
	t.Helper()
	ctx := testCtx(t, 10*time.Second)
	md, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil || len(md.Brokers) != 1 {
		t.Fatalf("metadata: %v %+v", err, md)
	}
	resp, err := cl.Broker(int(md.Brokers[0].NodeID)).Request(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// clientAt returns a client that speaks at most version v of API key.
func clientAt(t *testing.T, addr string, key, v int16) *kgo.Client {
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(key, v)
	return newClient(t, addr, kgo.MaxVersions(versions))
}

// produceValues produces values from..from+n-1 to partition 0 of topic,
// acks=all, one uncompressed batch per record (so that segment sizes are
// predictable), and checks they land at those offsets.
func produceValues(t *testing.T, addr, topic string, from, n int) {
	t.Helper()
	cl := newClient(t, addr, kgo.DefaultProduceTopic(topic), kgo.DisableIdempotentWrite(), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	defer cl.Close()
	for i := from; i < from+n; i++ {
		r, err := cl.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Value: val(i)}).First()
		if err != nil || r.Offset != int64(i) {
			t.Fatalf("produce %d: offset %v, %v", i, r, err)
		}
	}
}
