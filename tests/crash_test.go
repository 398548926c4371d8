package tests

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/vfs"
)

// acked collects the values whose acks=all produce succeeded.
type acked struct {
	mu   sync.Mutex
	vals map[int]bool
	n    int
	at   chan struct{} // closed when n reaches the target
	want int
}

func newAcked(target int) *acked {
	return &acked{vals: map[int]bool{}, at: make(chan struct{}), want: target}
}

func (a *acked) add(v int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.vals[v] = true
	a.n++
	if a.n == a.want {
		close(a.at)
	}
}

func (a *acked) snapshot() map[int]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[int]bool, len(a.vals))
	for k := range a.vals {
		out[k] = true
	}
	return out
}

// streamAcksAll produces increasing values to partition 0 with acks=all
// until ctx ends, recording each acknowledged one.
func streamAcksAll(ctx context.Context, cl *kgo.Client, a *acked) {
	for i := 0; ctx.Err() == nil; i++ {
		v := i
		cl.Produce(ctx, &kgo.Record{Value: val(v)}, func(_ *kgo.Record, err error) {
			if err == nil {
				a.add(v)
			}
		})
	}
}

// checkRecovered reads the whole partition and checks the durability
// promise: offsets start at 0 with no gaps, values are in produce order,
// and every acknowledged value is there.
func checkRecovered(t *testing.T, addr, topic string, acks map[int]bool) {
	t.Helper()
	ends, err := newAdmin(t, addr).ListEndOffsets(testCtx(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	recs := consumeN(t, addr, topic, int(end.Offset))
	last := -1
	seen := map[int]bool{}
	for i, r := range recs {
		v := atoi(t, r.Value)
		if r.Offset != int64(i) {
			t.Fatalf("record %d has offset %d: a gap", i, r.Offset)
		}
		if v <= last {
			t.Fatalf("offset %d holds value %d after %d: out of order", r.Offset, v, last)
		}
		last = v
		seen[v] = true
	}
	var lost []int
	for v := range acks {
		if !seen[v] {
			lost = append(lost, v)
		}
	}
	sort.Ints(lost)
	if len(lost) > 0 {
		t.Fatalf("%d acknowledged records lost after the crash, first %v", len(lost), lost[:min(5, len(lost))])
	}
	t.Logf("%d acknowledged, %d recovered", len(acks), len(recs))
}

// kill -9 while a producer streams with acks=all: after restart every
// acknowledged record is there, in order, without gaps.
func TestKill9DuringAcksAllStream(t *testing.T) {
	dir := t.TempDir()
	proc := brokertest.StartProcess(t, dir)
	topic := topicName(t, "kill")
	createTopic(t, newAdmin(t, proc.Addr), topic, 1, nil)
	cl := newClient(t, proc.Addr, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DisableIdempotentWrite(),
		kgo.DefaultProduceTopic(topic), kgo.RecordRetries(0), kgo.MaxBufferedRecords(2000))
	a := newAcked(5000)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); streamAcksAll(ctx, cl, a) }()
	select {
	case <-a.at:
	case <-time.After(60 * time.Second):
		t.Fatal("producer did not reach 5000 acks")
	}
	proc.Kill()
	acks := a.snapshot() // nothing can be acknowledged after the kill
	cancel()
	cl.Close()
	<-done

	restarted := brokertest.StartProcess(t, dir)
	checkRecovered(t, restarted.Addr, topic, acks)
}

// Power loss: the broker runs on a file system that keeps only synced
// bytes; a crash clone taken mid-stream holds every acknowledged record.
// With the journal (fsync.journal) every batch here goes through it (the
// broker's JournalBelow < 0: the size rule is partition's tests' and
// sluice verify --journal's to check), so acknowledgements come from the
// journal's fsync, not the segments', and the start must append again
// from the journal what the power loss took from the segments; without
// it, each segment was synced.
func TestPowerLossKeepsAcknowledged(t *testing.T) {
	for _, c := range []struct {
		codec   kgo.CompressionCodec
		journal bool
	}{{kgo.NoCompression(), true}, {kgo.ZstdCompression(), true}, {kgo.NoCompression(), false}} {
		codec := c.codec
		mem := vfs.NewMem()
		b := brokertest.Start(t, brokertest.WithFS(mem), brokertest.WithConfig(func(cfg *broker.Config) { cfg.Journal, cfg.JournalBelow = c.journal, -1 }))
		topic := topicName(t, "power")
		createTopic(t, newAdmin(t, b.Addr()), topic, 1, map[string]*string{"segment.bytes": sp("65536")})
		cl := newClient(t, b.Addr(), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DisableIdempotentWrite(),
			kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(codec), kgo.MaxBufferedRecords(2000))
		a := newAcked(5000)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); streamAcksAll(ctx, cl, a) }()
		<-a.at
		acks := a.snapshot() // taken before the clone: all of these were synced before it
		crashed := mem.CrashClone()
		cancel()
		<-done
		cl.Close()
		b.Close()

		cfg := broker.Config{Listen: "127.0.0.1:0", DataDir: b.Cfg.DataDir, FS: crashed, Journal: c.journal, JournalBelow: -1}
		after := brokertest.StartConfig(t, cfg)
		checkRecovered(t, after.Addr(), topic, acks)
		if replayed := strings.Contains(after.Log.String(), "appended again from the journal"); replayed != c.journal {
			t.Fatalf("journal=%v: the start replayed the journal: %v", c.journal, replayed)
		}
	}
}

// A torn or garbled tail is cut back to the last whole batch, and the
// broker says what it cut.
func TestTornTailRecovery(t *testing.T) {
	for _, damage := range []string{"cut", "garble", "append-garbage"} {
		t.Run(damage, func(t *testing.T) {
			b := brokertest.Start(t)
			topic := topicName(t, "torn")
			createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
			cl := newClient(t, b.Addr(), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic))
			for i := 0; i < 10; i++ { // ten batches of one record
				if err := cl.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Value: val(i)}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			cl.Close()
			cfg := b.Cfg
			cfg.Logger = nil
			b.Close()
			// A torn tail is what a crash leaves: forget the clean shutdown,
			// as a kill -9 or a power loss would.
			forgetCleanShutdown(t, cfg.DataDir)

			segs, _ := filepath.Glob(filepath.Join(cfg.DataDir, topic+"-0", "*.log"))
			if len(segs) != 1 {
				t.Fatalf("segments: %v", segs)
			}
			damageFile(t, segs[0], damage)

			after := brokertest.StartConfig(t, cfg)
			want := 9
			if damage == "append-garbage" {
				want = 10
			}
			recs := consumeN(t, after.Addr(), topic, want)
			for i, r := range recs {
				if atoi(t, r.Value) != i {
					t.Fatalf("offset %d holds %s", r.Offset, r.Value)
				}
			}
			if !strings.Contains(after.Log.String(), "truncated torn tail") {
				t.Fatalf("recovery did not log the cut:\n%s", after.Log.String())
			}
		})
	}
}

func forgetCleanShutdown(t *testing.T, dataDir string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dataDir, "__sluice_catalog", "clean-shutdown")); err != nil {
		t.Fatalf("no clean-shutdown marker after a clean stop: %v", err)
	}
}

// Damage that no crash can explain is refused, naming the segment file,
// the byte and the reason, and the partition's directory is left
// byte-identical: the last segment after a clean shutdown (everything was
// synced), and a segment before the last after any stop (a segment is
// synced before the next one is created).
func TestSegmentDamageIsRefused(t *testing.T) {
	for _, c := range []struct {
		name    string
		crashed bool
		segment int    // which segment to damage: 0 first, -1 last
		how     string // see damageFile
		reason  string
	}{
		{"last segment after a clean shutdown", false, -1, "garble", "CRC"},
		{"earlier segment after a crash", true, 0, "header", "batch length"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := brokertest.Start(t)
			topic := topicName(t, "damage")
			createTopic(t, newAdmin(t, b.Addr()), topic, 1, map[string]*string{"segment.bytes": sp("2048")})
			cl := newClient(t, b.Addr(), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic))
			for i := range 40 {
				rec := &kgo.Record{Value: append(val(i), bytes.Repeat([]byte{'x'}, 200)...)}
				if err := cl.ProduceSync(testCtx(t, 10*time.Second), rec).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			cl.Close()
			cfg := b.Cfg
			cfg.Logger = nil
			b.Close()
			if c.crashed {
				forgetCleanShutdown(t, cfg.DataDir)
			}
			dir := filepath.Join(cfg.DataDir, topic+"-0")
			segs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
			if len(segs) < 2 {
				t.Fatalf("want several segments, have %v", segs)
			}
			seg := segs[len(segs)-1]
			if c.segment >= 0 {
				seg = segs[c.segment]
			}
			damageFile(t, seg, c.how)
			before := treeOf(t, dir)
			_, err := broker.Start(cfg)
			if err == nil {
				t.Fatal("the broker started on a damaged segment")
			}
			for _, want := range []string{seg, "at byte", c.reason, "nothing was changed"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("refusal %q does not say %q", err, want)
				}
			}
			sameTree(t, before, treeOf(t, dir))
		})
	}
}

func damageFile(t *testing.T, path, how string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch how {
	case "cut":
		data = data[:len(data)-3]
	case "garble":
		data[len(data)-2] ^= 0xff
	case "header": // the first batch's length field
		data[10] ^= 0x01
	case "append-garbage":
		data = append(data, []byte("not a batch at all, just bytes after the end")...)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// SIGTERM shuts down gracefully: exit code 0, and every record acknowledged
// with acks=1 is there after restart.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	proc := brokertest.StartProcess(t, dir)
	topic := topicName(t, "term")
	createTopic(t, newAdmin(t, proc.Addr), topic, 3, nil)
	cl := newClient(t, proc.Addr, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic))
	var recs []*kgo.Record
	for i := 0; i < 3000; i++ {
		recs = append(recs, &kgo.Record{Value: val(i)})
	}
	if err := cl.ProduceSync(testCtx(t, 30*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	if err := proc.Stop(); err != nil {
		t.Fatalf("%v\n%s", err, proc.Log.String())
	}
	if !strings.Contains(proc.Log.String(), "sluice: stopped") {
		t.Fatalf("no shutdown log line:\n%s", proc.Log.String())
	}
	restarted := brokertest.StartProcess(t, dir)
	got := consumeN(t, restarted.Addr, topic, 3000)
	seen := map[int]bool{}
	for _, r := range got {
		seen[atoi(t, r.Value)] = true
	}
	if len(seen) != 3000 {
		t.Fatalf("%d distinct records after restart, want 3000", len(seen))
	}
}
