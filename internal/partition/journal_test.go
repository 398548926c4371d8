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
	"sluice/internal/vfs"
)

const journalDir = "/data/__sluice_journal"

// openJournaled opens partition index of topic t with the journal j and
// the journal's recovered batches, if any.
func openJournaled(t *testing.T, fsys vfs.FS, index int32, j *journal.Journal, rec *journal.Recovered) (*Partition, error) {
	t.Helper()
	log, err := commitlog.Open(fsys, fmt.Sprintf("/data/t-%d", index), commitlog.Config{PreallocateBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	key := journal.Key{Topic: [16]byte{9}, Partition: index}
	cfg := Config{Fsync: FsyncAlways, MaxMessageBytes: 1 << 20, FS: fsys, Journal: j, JournalKey: key}
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
	var segmentSyncs, journalSyncs atomic.Int32
	fsys := vfs.NewErrorFS(mem, func(op, name string) error {
		if op == vfs.OpSync {
			if strings.HasPrefix(name, journalDir) {
				journalSyncs.Add(1)
			} else if strings.HasSuffix(name, ".log") {
				segmentSyncs.Add(1)
			}
		}
		return nil
	})
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

	crashed := mem.CrashClone()
	rec, err := journal.Recover(crashed, journalDir)
	if err != nil {
		t.Fatal(err)
	}
	j2, err := journal.New(crashed, journalDir, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
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
