package group

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

func txnCommit(t *testing.T, s *Service, pid int64, epoch int16, offset int64) int16 {
	t.Helper()
	codes := s.TxnCommit(TxnCommitRequest{
		CommitRequest: CommitRequest{Group: "g", Generation: -1, Offsets: []CommitOffset{
			{TopicPartition: TopicPartition{"t", 0}, Offset: offset, LeaderEpoch: -1},
		}},
		ProducerID: pid, Epoch: epoch,
	})(context.Background())
	return codes[0]
}

func endTxn(t *testing.T, s *Service, pid int64, epoch int16, commit bool) {
	t.Helper()
	if err := s.WriteMarker(context.Background(), int32(s.partitionFor("g")), recordbatch.ControlMarker{ProducerID: pid, Epoch: epoch, Commit: commit}); err != nil {
		t.Fatal(err)
	}
}

// unstable reports whether a require_stable fetch finds g's t/0 unstable.
func unstable(s *Service) bool {
	_, u := s.FetchStable("g", []TopicPartition{{"t", 0}})
	return u[TopicPartition{"t", 0}]
}

func committed(s *Service) int64 {
	c, ok := s.Fetch("g", []TopicPartition{{"t", 0}})[TopicPartition{"t", 0}]
	if !ok {
		return -1
	}
	return c.Offset
}

// Offsets committed in a transaction are invisible until its commit
// marker, dropped by an abort, and refused from a fenced epoch; a restart
// in the middle keeps them pending.
func TestTransactionalOffsets(t *testing.T) {
	fsys := vfs.NewMem()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s, tm := openService(t, fsys, clock, 1<<20)

	if code := txnCommit(t, s, 5, 0, 10); code != 0 {
		t.Fatalf("txn commit: code %d", code)
	}
	if got := committed(s); got != -1 || !unstable(s) {
		t.Fatalf("before the marker: committed %d, unstable %v", got, unstable(s))
	}
	endTxn(t, s, 5, 0, true)
	if got := committed(s); got != 10 || unstable(s) {
		t.Fatalf("after commit: committed %d, unstable %v", got, unstable(s))
	}
	txnCommit(t, s, 5, 0, 20)
	endTxn(t, s, 5, 1, false) // an abort that fenced epoch 0
	if got := committed(s); got != 10 {
		t.Fatalf("after abort: committed %d, want 10", got)
	}
	if code := txnCommit(t, s, 5, 0, 30); code != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("commit from the fenced epoch: code %d", code)
	}
	if code := txnCommit(t, s, 5, 1, 40); code != 0 {
		t.Fatalf("commit from the new epoch: code %d", code)
	}

	// Crash with the transaction open: its offsets stay pending after the
	// replay, and its commit marker applies them.
	crashed := fsys.CrashClone()
	s.Close()
	tm.Close()
	s, tm = openService(t, crashed, clock, 1<<20)
	defer tm.Close()
	defer s.Close()
	if got := committed(s); got != 10 || !unstable(s) {
		t.Fatalf("after restart: committed %d, unstable %v", got, unstable(s))
	}
	endTxn(t, s, 5, 1, true)
	if got := committed(s); got != 40 {
		t.Fatalf("after the commit marker: committed %d, want 40", got)
	}
}

// A require_stable fetch (KIP-447) reads the committed offsets and the
// undecided ones together: a partition an open transaction holds an
// offset for is unstable, whatever was committed before; once the commit
// marker is applied its new offset is stable. Asked for every partition,
// only committed ones are answered (Kafka's rule): one whose only offset
// is pending is not listed.
func TestFetchStable(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s, tm := openService(t, vfs.NewMem(), clock, 1<<20)
	defer tm.Close()
	defer s.Close()
	t0, t1 := TopicPartition{"t", 0}, TopicPartition{"t", 1}
	txnCommit(t, s, 5, 0, 10)
	endTxn(t, s, 5, 0, true)
	codes := s.TxnCommit(TxnCommitRequest{
		CommitRequest: CommitRequest{Group: "g", Generation: -1, Offsets: []CommitOffset{
			{TopicPartition: t0, Offset: 20, LeaderEpoch: -1}, {TopicPartition: t1, Offset: 7, LeaderEpoch: -1},
		}},
		ProducerID: 5, Epoch: 0,
	})(context.Background())
	if codes[0] != 0 || codes[1] != 0 {
		t.Fatalf("txn commit: codes %v", codes)
	}
	want := func(when string, tps []TopicPartition, want string) {
		t.Helper()
		c, u := s.FetchStable("g", tps)
		if got := fmt.Sprintf("t/0=%d,%v t/1=%d,%v", offsetOr(c, t0), u[t0], offsetOr(c, t1), u[t1]); got != want {
			t.Errorf("%s: %s, want %s", when, got, want)
		}
	}
	want("open, named", []TopicPartition{t0, t1}, "t/0=10,true t/1=-1,true")
	want("open, all", nil, "t/0=10,true t/1=-1,false")
	endTxn(t, s, 5, 0, true)
	want("committed, named", []TopicPartition{t0, t1}, "t/0=20,false t/1=7,false")
	want("committed, all", nil, "t/0=20,false t/1=7,false")
}

// offsetOr is tp's committed offset in c, or -1.
func offsetOr(c map[TopicPartition]Committed, tp TopicPartition) int64 {
	if o, ok := c[tp]; ok {
		return o.Offset
	}
	return -1
}

// KIP-447: a transactional commit naming a member or generation must come
// from the current generation's member; a zombie is refused. One naming
// neither (older clients) is fenced by its producer epoch alone.
func TestTxnCommitFencesZombieConsumers(t *testing.T) {
	h := newCGHarness(t, cgDelay)
	h.wantCode("no group, no member", h.c.TxnCommitAllowed("g", "", nil, -1), 0)
	h.wantCode("no group, a generation", h.c.TxnCommitAllowed("g", "m", nil, 3), kerr.IllegalGeneration.Code)
	ids, gen := h.stable("g", []string{"a", "b"})
	h.wantCode("current member", h.c.TxnCommitAllowed("g", ids[0], nil, gen), 0)
	h.wantCode("stale generation", h.c.TxnCommitAllowed("g", ids[0], nil, gen-1), kerr.IllegalGeneration.Code)
	h.wantCode("member rebalanced away", h.c.TxnCommitAllowed("g", "gone-member", nil, gen), kerr.UnknownMemberID.Code)
	h.wantCode("no member, no generation", h.c.TxnCommitAllowed("g", "", nil, -1), 0)
}
