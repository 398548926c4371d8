// Package extest runs the programs under examples/ for their tests: a real
// Sluice broker, input records written with acks=all, the program started
// as a child process (a Go example built with the race detector, or a
// Python script run by Debian's python3-confluent-kafka), its output lines
// read as events, and SIGKILL or SIGTERM sent on cue.
package extest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
)

// Broker starts an in-process Sluice on 127.0.0.1 for the test. A new
// group's first rebalance starts at once instead of waiting 3 s for more
// members: every example's group has one member at a time.
func Broker(t *testing.T) *brokertest.Broker {
	t.Helper()
	return brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) {
		c.GroupInitialRebalanceDelay = -1
	}))
}

// BrokerProcess starts Sluice as a child process (the sluice binary, built
// with the race detector) on 127.0.0.1 over a fresh data directory, so that
// the test can kill it with SIGKILL; new groups rebalance at once, as with
// Broker.
func BrokerProcess(t *testing.T) *brokertest.Process {
	t.Helper()
	return brokertest.StartProcess(t, t.TempDir(), "--group-initial-rebalance-delay=-1ms")
}

// CrashAndRestart kills p with SIGKILL and starts Sluice again over the
// same data directory, listening on the same address, so that clients
// find it where they left it.
func CrashAndRestart(t *testing.T, p *brokertest.Process) *brokertest.Process {
	t.Helper()
	p.Kill()
	return brokertest.StartProcess(t, p.DataDir, slices.Concat(p.Args, []string{"--listen", p.Addr})...)
}

// Context returns a context that ends after d or with the test.
func Context(t *testing.T, d time.Duration) context.Context {
	return brokertest.Context(t, d)
}

// CreateTopic creates a topic with the given partitions.
func CreateTopic(t *testing.T, addr, topic string, partitions int32) {
	t.Helper()
	resp, err := brokertest.Admin(t, addr).CreateTopic(Context(t, 10*time.Second), partitions, 1, nil, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", topic, err, resp.Err)
	}
}

// TopicName returns a topic name unique to the test.
func TopicName(t *testing.T, suffix string) string {
	return fmt.Sprintf("%s-%d-%s", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano()%1e9, suffix)
}

// Produce writes recs in order with acks=all and no client retries that
// could reorder them, and fills in each record's partition and offset.
// A record's Partition is kept (manual partitioner).
func Produce(t *testing.T, addr string, recs []*kgo.Record) {
	t.Helper()
	cl := brokertest.Client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(len(recs)+1))
	defer cl.Close()
	if err := cl.ProduceSync(Context(t, 60*time.Second), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// Offsets maps a partition to an offset: the next one to read.
type Offsets map[int32]int64

// String lists the offsets as "partition:offset", by partition.
func (o Offsets) String() string {
	ps := make([]int32, 0, len(o))
	for p := range o {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%d", p, o[p])
	}
	return b.String()
}

// Reached reports whether o is at or past want in every partition.
func (o Offsets) Reached(want Offsets) bool {
	for p, w := range want {
		if o[p] < w {
			return false
		}
	}
	return true
}

// EndOffsets returns each partition's end offset (read uncommitted).
func EndOffsets(t *testing.T, addr, topic string) Offsets {
	t.Helper()
	listed, err := brokertest.Admin(t, addr).ListEndOffsets(Context(t, 10*time.Second), topic)
	if err != nil || listed.Error() != nil {
		t.Fatalf("list end offsets of %s: %v %v", topic, err, listed.Error())
	}
	out := Offsets{}
	listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// Committed returns the group's committed offsets for topic (a partition
// with no commit is absent), once no undecided transaction holds one of
// them (brokertest.StableCommitted: a transaction's offsets are stable
// once its marker reaches the offsets partition, which follows EndTxn's
// answer). A program killed between its TxnOffsetCommit and its EndTxn
// leaves its transaction open until its timeout (the examples' is 30 s)
// aborts it: the bound is above that.
func Committed(t *testing.T, addr, group, topic string) Offsets {
	t.Helper()
	return Offsets(brokertest.StableCommitted(t, addr, group, topic, time.Minute))
}

// ReadAll reads every record of topic, from the start to the end offsets
// it has when called, without a group, at read_committed or
// read_uncommitted. Transaction markers are read too, so that reaching
// each partition's last offset (often a marker) proves nothing more is
// there, and then left out of what is returned.
func ReadAll(t *testing.T, addr, topic string, readCommitted bool) []*kgo.Record {
	t.Helper()
	ends := EndOffsets(t, addr, topic)
	iso := kgo.ReadUncommitted()
	if readCommitted {
		iso = kgo.ReadCommitted()
	}
	cl := brokertest.Client(t, addr, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(iso),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.KeepControlRecords())
	defer cl.Close()
	ctx := Context(t, 30*time.Second)
	next := Offsets{}
	var out []*kgo.Record
	for !next.Reached(ends) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s up to %v before the deadline, want the end offsets %v", topic, next, ends)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		for _, r := range fs.Records() {
			next[r.Partition] = r.Offset + 1
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
		}
	}
	return out
}

// Fill writes records with values "0" to "n-1" round-robin over the
// topic's partitions, acks=all, and returns each record's value by place.
func Fill(t *testing.T, addr, topic string, n int, partitions int32) map[Place]string {
	t.Helper()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		v := strconv.Itoa(i)
		recs[i] = &kgo.Record{Topic: topic, Partition: int32(i) % partitions, Key: []byte("k" + v), Value: []byte(v)}
	}
	Produce(t, addr, recs)
	out := make(map[Place]string, n)
	for _, r := range recs {
		out[Place{r.Partition, r.Offset}] = string(r.Value)
	}
	return out
}
