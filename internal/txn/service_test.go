package txn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"sluice/internal/commitlog"
	"sluice/internal/partition"
	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// markerLog records the markers written, and can hold them back.
type markerLog struct {
	mu      sync.Mutex
	written []string
	hold    chan struct{} // when set, WriteMarker waits for it to close
	fail    error
}

func (l *markerLog) WriteMarker(ctx context.Context, tp TopicPartition, m recordbatch.ControlMarker) error {
	l.mu.Lock()
	hold, fail := l.hold, l.fail
	l.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail != nil {
		return fail
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.written = append(l.written, fmt.Sprintf("%s commit=%v pid=%d epoch=%d", tp, m.Commit, m.ProducerID, m.Epoch))
	return nil
}

// list returns the markers written, sorted: a transaction's markers are
// written to its partitions concurrently.
func (l *markerLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Sorted(slices.Values(l.written))
}

func openLog(t *testing.T, fsys vfs.FS, n int) []*partition.Partition {
	t.Helper()
	var parts []*partition.Partition
	for i := range n {
		log, err := commitlog.Open(fsys, fmt.Sprintf("/data/__transaction_state-%d", i), commitlog.Config{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := partition.Open(log, "__transaction_state", int32(i), partition.Config{Fsync: partition.FsyncAlways}, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	return parts
}

func closeAll(parts []*partition.Partition) {
	for _, p := range parts {
		p.Close()
	}
}

// waitState polls the service until id reaches state (markers are
// written in the background).
// waitState waits, transition by transition, until id is in state want.
func waitState(t *testing.T, s *Service, id string, want State) Txn {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		changed := s.Changed(id) // before reading, so no transition is missed
		if got, ok := s.Describe(id); ok && got.State == want {
			return got
		}
		select {
		case <-changed:
		case <-deadline.C:
			got, _ := s.Describe(id)
			t.Fatalf("%s never reached %s: %s", id, want, got)
		}
	}
}

func TestServiceCommitWritesEveryMarkerThenCompletes(t *testing.T) {
	mem := vfs.NewMem()
	parts := openLog(t, mem, 3)
	defer closeAll(parts)
	markers := &markerLog{}
	s, err := NewService(ServiceConfig{}, parts, &counter{next: 10}, markers)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o := s.InitProducerID(InitRequest{TxnID: "app", TimeoutMs: 60000, ProducerID: -1, Epoch: -1})()
	if o.Err != nil || o.ProducerID != 11 || o.Epoch != 0 {
		t.Fatalf("init: %+v", o)
	}
	tps := []TopicPartition{{"out", 0}, {"out", 1}, {"__consumer_offsets", 3}}
	if o := s.AddPartitions("app", 11, 0, tps)(); o.Err != nil {
		t.Fatalf("add: %v", o.Err)
	}
	if err := s.Verify("app", 11, 0, tps[:1]); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if o := s.EndTxn(EndRequest{TxnID: "app", ProducerID: 11, Epoch: 0, Commit: true})(); o.Err != nil {
		t.Fatalf("end: %v", o.Err)
	}
	waitState(t, s, "app", CompleteCommit)
	want := []string{"__consumer_offsets-3 commit=true pid=11 epoch=0", "out-0 commit=true pid=11 epoch=0", "out-1 commit=true pid=11 epoch=0"}
	if got := markers.list(); !slices.Equal(got, want) {
		t.Fatalf("markers %q, want %q", got, want)
	}
}

// A crash between the prepare record and the markers: the next start
// finds the transaction prepared and writes its markers, completing it as
// decided.
func TestServiceCompletesPreparedTransactionsAfterACrash(t *testing.T) {
	mem := vfs.NewMem()
	parts := openLog(t, mem, 2)
	held := &markerLog{hold: make(chan struct{})}
	s, err := NewService(ServiceConfig{}, parts, &counter{next: 10}, held)
	if err != nil {
		t.Fatal(err)
	}
	s.InitProducerID(InitRequest{TxnID: "a", TimeoutMs: 60000, ProducerID: -1, Epoch: -1})()
	s.AddPartitions("a", 11, 0, []TopicPartition{{"out", 0}})()
	if o := s.EndTxn(EndRequest{TxnID: "a", ProducerID: 11, Epoch: 0, Commit: false})(); o.Err != nil {
		t.Fatalf("end: %v", o.Err)
	}
	crashed := mem.CrashClone() // the PrepareAbort is durable, no marker written
	s.Close()
	closeAll(parts)

	parts = openLog(t, crashed, 2)
	defer closeAll(parts)
	markers := &markerLog{}
	s, err = NewService(ServiceConfig{}, parts, &counter{next: 20}, markers)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitState(t, s, "a", CompleteAbort)
	if got := markers.list(); !slices.Equal(got, []string{"out-0 commit=false pid=11 epoch=0"}) {
		t.Fatalf("markers after restart %q", got)
	}
	// While the old ones complete, a new producer is told to retry, then
	// gets the next epoch.
	if o := s.InitProducerID(InitRequest{TxnID: "a", TimeoutMs: 60000, ProducerID: -1, Epoch: -1})(); o.Err != nil || o.Epoch != 1 {
		t.Fatalf("init after recovery: %+v", o)
	}
}

// A marker that cannot be written is retried until it is; the id answers
// CONCURRENT_TRANSACTIONS meanwhile.
func TestServiceRetriesMarkers(t *testing.T) {
	parts := openLog(t, vfs.NewMem(), 1)
	defer closeAll(parts)
	markers := &markerLog{fail: errors.New("partition busy")}
	s, err := NewService(ServiceConfig{}, parts, &counter{next: 10}, markers)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.InitProducerID(InitRequest{TxnID: "a", TimeoutMs: 60000, ProducerID: -1, Epoch: -1})()
	s.AddPartitions("a", 11, 0, []TopicPartition{{"out", 0}})()
	s.EndTxn(EndRequest{TxnID: "a", ProducerID: 11, Epoch: 0, Commit: true})()
	if o := s.InitProducerID(InitRequest{TxnID: "a", TimeoutMs: 60000, ProducerID: -1, Epoch: -1})(); !errors.Is(o.Err, kerr.ConcurrentTransactions) {
		t.Fatalf("init while markers fail: %v", o.Err)
	}
	markers.mu.Lock()
	markers.fail = nil
	markers.mu.Unlock()
	waitState(t, s, "a", CompleteCommit)
}
