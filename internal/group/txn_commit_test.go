package group

import (
	"context"
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
	tp := TopicPartition{"t", 0}

	if code := txnCommit(t, s, 5, 0, 10); code != 0 {
		t.Fatalf("txn commit: code %d", code)
	}
	if got := committed(s); got != -1 || !s.Unstable("g", tp) {
		t.Fatalf("before the marker: committed %d, unstable %v", got, s.Unstable("g", tp))
	}
	endTxn(t, s, 5, 0, true)
	if got := committed(s); got != 10 || s.Unstable("g", tp) {
		t.Fatalf("after commit: committed %d, unstable %v", got, s.Unstable("g", tp))
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
	if got := committed(s); got != 10 || !s.Unstable("g", tp) {
		t.Fatalf("after restart: committed %d, unstable %v", got, s.Unstable("g", tp))
	}
	endTxn(t, s, 5, 1, true)
	if got := committed(s); got != 40 {
		t.Fatalf("after the commit marker: committed %d, want 40", got)
	}
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
