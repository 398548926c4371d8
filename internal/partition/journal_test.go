package partition

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sluice/internal/commitlog"
	"sluice/internal/journal"
	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

const journalDir = "/data/__sluice_journal"

// openJournaled opens partition index of topic t with the journal j and
// the journal's recovered batches, if any.
func openJournaled(t *testing.T, fsys vfs.FS, index int32, j *journal.Journal, rec *journal.Recovered) (*Partition, error) {
	t.Helper()
	return openJournaledBelow(t, fsys, index, j, rec, 0)
}

// openJournaledBelow is openJournaled with Config.JournalBelow set.
func openJournaledBelow(t *testing.T, fsys vfs.FS, index int32, j *journal.Journal, rec *journal.Recovered, below int) (*Partition, error) {
	t.Helper()
	log, err := commitlog.Open(fsys, fmt.Sprintf("/data/t-%d", index), commitlog.Config{PreallocateBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	key := journal.Key{Topic: [16]byte{9}, Partition: index}
	cfg := Config{Fsync: FsyncAlways, MaxMessageBytes: 1 << 20, FS: fsys, Journal: j, JournalKey: key, JournalBelow: below}
	if rec != nil {
		cfg.Replay = rec.For(key)
	}
	p, err := Open(log, "t", index, cfg, time.Now)
	if err != nil {
		log.Close()
		return nil, err
	}
	t.Cleanup(func() { p.Close() })
	return p, nil
}

// countingSyncs is mem with counts of the fsyncs of segment files and of
// journal files.
func countingSyncs(mem vfs.FS) (fsys vfs.FS, segmentSyncs, journalSyncs *atomic.Int32) {
	segmentSyncs, journalSyncs = new(atomic.Int32), new(atomic.Int32)
	fsys = vfs.NewErrorFS(mem, func(op, name string) error {
		if op == vfs.OpSync {
			if strings.HasPrefix(name, journalDir) {
				journalSyncs.Add(1)
			} else if strings.HasSuffix(name, ".log") {
				segmentSyncs.Add(1)
			}
		}
		return nil
	})
	return fsys, segmentSyncs, journalSyncs
}

// powerLoss is what mem keeps through a power loss, with the journal's
// batches recovered from it and a journal to open partitions with.
func powerLoss(t *testing.T, mem *vfs.MemFS) (*vfs.MemFS, *journal.Recovered, *journal.Journal) {
	t.Helper()
	crashed := mem.CrashClone()
	rec, err := journal.Recover(crashed, journalDir)
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.New(crashed, journalDir, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return crashed, rec, j
}

func newJournal(t *testing.T, fsys vfs.FS) *journal.Journal {
	t.Helper()
	j, err := journal.New(fsys, journalDir, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close(false) })
	return j
}

// One durable wait over three partitions syncs the journal once and no
// segment; a power loss then keeps nothing of the segments' new bytes,
// and the start appends them again from the journal, producer state
// included: a retry of the last batch is still recognised.
func TestJournalOneFsyncAndReplay(t *testing.T) {
	mem := vfs.NewMem()
	fsys, segmentSyncs, journalSyncs := countingSyncs(mem)
	j := newJournal(t, fsys)
	var ps []*Partition
	for i := range int32(3) {
		p, err := openJournaled(t, fsys, i, j, nil)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	segmentSyncs.Store(0)
	journalSyncs.Store(0)
	var ds []Durable
	for seq := int32(0); seq < 4; seq++ {
		for _, p := range ps {
			res, err := p.AppendAwaited(idemBatch(7, 0, seq))
			if err != nil {
				t.Fatal(err)
			}
			if seq == 3 {
				ds = append(ds, Durable{P: p, Next: res.NextOffset})
			}
		}
	}
	MakeDurable(context.Background(), ds)
	for i, d := range ds {
		if d.Err != nil || ps[i].HighWatermark() != 4 {
			t.Fatalf("partition %d: err %v, HW %d, want 4", i, d.Err, ps[i].HighWatermark())
		}
	}
	if s, js := segmentSyncs.Load(), journalSyncs.Load(); s != 0 || js != 1 {
		t.Fatalf("%d segment fsyncs and %d journal fsyncs for one durable wait over 3 partitions, want 0 and 1", s, js)
	}

	crashed, rec, j2 := powerLoss(t, mem)
	for i := range int32(3) {
		log, err := commitlog.Open(crashed, fmt.Sprintf("/data/t-%d", i), commitlog.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if log.NextOffset() != 0 {
			t.Fatalf("partition %d's segment kept %d records through the power loss: the test proves nothing", i, log.NextOffset())
		}
		log.Close()
		p, err := openJournaled(t, crashed, i, j2, rec)
		if err != nil {
			t.Fatal(err)
		}
		if p.LogEndOffset() != 4 || p.HighWatermark() != 4 {
			t.Fatalf("partition %d after replay: log end %d, HW %d, want 4", i, p.LogEndOffset(), p.HighWatermark())
		}
		res, err := p.Append(idemBatch(7, 0, 3))
		if err != nil || !res.Duplicate || res.BaseOffset != 3 {
			t.Fatalf("partition %d: retry of the last batch after replay: %+v, %v; want a duplicate at offset 3", i, res, err)
		}
	}
}

// A journal batch past the recovered log end, with the batches between in
// neither, is refused at Open, naming the journal file and the offsets.
func TestJournalReplayGapIsRefused(t *testing.T) {
	mem := vfs.NewMem()
	j := newJournal(t, mem)
	b := batch()
	b.SetBaseOffset(5)
	pos, err := j.Append(journal.Key{Topic: [16]byte{9}, Partition: 0}, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Sync(pos); err != nil {
		t.Fatal(err)
	}
	j.Close(false)
	rec, err := journal.Recover(mem, journalDir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = openJournaled(t, mem, 0, nil, rec)
	if err == nil || !strings.Contains(err.Error(), ".journal at byte 8") || !strings.Contains(err.Error(), "[5, 6)") || !strings.Contains(err.Error(), "log ends at 0") {
		t.Fatalf("Open with a gap before the journal's batch: %v", err)
	}
}

// valueBatch is a batch of one record with a value of n bytes.
func valueBatch(n int) recordbatch.Batch {
	return recordbatch.Build(nil, []recordbatch.Record{{Value: make([]byte, n)}}, time.Now().UnixMilli(), 0)
}

// Large batches skip the journal and are synced in their segment; once
// batches are small again the partition journals them, syncing its
// segment first if batches written to it alone may not be durable yet,
// so that a power loss at any point leaves the journal's batches
// continuing the log: every acknowledged batch comes back, and Open finds
// no gap.
func TestJournalOnlySmallBatches(t *testing.T) {
	mem := vfs.NewMem()
	fsys, segmentSyncs, journalSyncs := countingSyncs(mem)
	j := newJournal(t, fsys)
	const below = 1000
	p, err := openJournaledBelow(t, fsys, 0, j, nil, below)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	resetSyncs := func() { segmentSyncs.Store(0); journalSyncs.Store(0) }
	appendOnly := func(b recordbatch.Batch) int64 {
		t.Helper()
		res, err := p.AppendAwaited(b)
		if err != nil {
			t.Fatal(err)
		}
		return res.NextOffset
	}
	// appendWait appends b, waits until it is durable, and returns the
	// fsyncs the append and the wait made: of segments, of the journal.
	appendWait := func(b recordbatch.Batch) (int32, int32) {
		t.Helper()
		resetSyncs()
		next := appendOnly(b)
		if err := p.WaitDurable(ctx, next); err != nil {
			t.Fatal(err)
		}
		if hw := p.HighWatermark(); hw != next {
			t.Fatalf("HW %d after the wait for %d", hw, next)
		}
		return segmentSyncs.Load(), journalSyncs.Load()
	}
	// Large: the segment's way, from the first.
	for i := range 3 {
		if s, js := appendWait(valueBatch(5 * below)); s != 1 || js != 0 {
			t.Fatalf("large batch %d: %d segment fsyncs, %d journal fsyncs; want 1 and 0", i, s, js)
		}
	}
	// Small ones: the segment's way while the average is over the
	// threshold (one small batch among large ones does not switch), then
	// the journal's, with no barrier since every batch before is durable.
	switched := -1
	for i := range 40 {
		s, js := appendWait(valueBatch(10))
		switch {
		case switched < 0 && s == 1 && js == 0:
		case switched < 0 && i > 0 && s == 0 && js == 1:
			switched = i
		case switched >= 0 && s == 0 && js == 1:
		default:
			t.Fatalf("small batch %d (switched at %d): %d segment fsyncs, %d journal fsyncs", i, switched, s, js)
		}
	}
	if switched < 0 {
		t.Fatal("never switched to the journal")
	}
	// Large again, until the average passes twice the threshold: back to
	// the segment's way.
	back := false
	for range 40 {
		if s, js := appendWait(valueBatch(5 * below)); s == 1 && js == 0 {
			back = true
			break
		} else if s != 0 || js != 1 {
			t.Fatalf("large batch while journaling: %d segment fsyncs, %d journal fsyncs", s, js)
		}
	}
	if !back {
		t.Fatal("never went back to the segment's way")
	}
	// Batches written to the segment alone and not waited for, then small
	// ones, not waited for either, until one goes to the journal: its
	// append syncs the segment first (the barrier).
	appendOnly(valueBatch(5 * below))
	barrier := false
	var last int64
	for range 40 {
		resetSyncs()
		last = appendOnly(valueBatch(10))
		if s := segmentSyncs.Load(); s == 1 {
			barrier = true
			break
		} else if s != 0 {
			t.Fatalf("%d segment fsyncs appending a batch", s)
		}
	}
	if !barrier {
		t.Fatal("no segment fsync before the first journaled batch")
	}
	resetSyncs()
	if err := p.WaitDurable(ctx, last); err != nil {
		t.Fatal(err)
	}
	if s, js := segmentSyncs.Load(), journalSyncs.Load(); s != 0 || js != 1 || p.HighWatermark() != last {
		t.Fatalf("wait after the barrier: %d segment fsyncs, %d journal fsyncs, HW %d; want 0, 1, %d", s, js, p.HighWatermark(), last)
	}
	// One more, journaled and not waited for: a power loss may take it.
	appendOnly(valueBatch(10))

	crashed, rec, j2 := powerLoss(t, mem)
	p2, err := openJournaledBelow(t, crashed, 0, j2, rec, below)
	if err != nil {
		t.Fatalf("open after the power loss: %v", err)
	}
	if got := p2.LogEndOffset(); got < last || got > last+1 {
		t.Fatalf("log end %d after the power loss; %d were acknowledged, %d appended", got, last, last+1)
	}
}

// A small batch of a request for its partition alone is synced in its
// segment (a journal's fsync would be its own, plus a second write);
// small batches of requests for several partitions share the journal's.
func TestJournalSkippedByBatchesAlone(t *testing.T) {
	mem := vfs.NewMem()
	fsys, segmentSyncs, journalSyncs := countingSyncs(mem)
	j := newJournal(t, fsys)
	p, err := openJournaled(t, fsys, 0, j, nil)
	if err != nil {
		t.Fatal(err)
	}
	wait := func(append func(recordbatch.Batch) (AppendResult, error)) (int32, int32) {
		t.Helper()
		segmentSyncs.Store(0)
		journalSyncs.Store(0)
		res, err := append(valueBatch(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.WaitDurable(context.Background(), res.NextOffset); err != nil || p.HighWatermark() != res.NextOffset {
			t.Fatalf("wait: %v, HW %d, want %d", err, p.HighWatermark(), res.NextOffset)
		}
		return segmentSyncs.Load(), journalSyncs.Load()
	}
	for i := range 5 {
		s, js := wait(p.AppendAwaitedAlone)
		// The first counts as large at once: the average starts there.
		if s != 1 || js != 0 {
			t.Fatalf("batch %d alone: %d segment fsyncs, %d journal fsyncs; want 1 and 0", i, s, js)
		}
	}
	journaled := false
	for range 40 {
		if s, js := wait(p.AppendAwaited); s == 0 && js == 1 {
			journaled = true
			break
		}
	}
	if !journaled {
		t.Fatal("small batches of shared requests never went through the journal")
	}
}
