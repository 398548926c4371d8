package partition

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"

	"sluice/internal/commitlog"
	"sluice/internal/producerstate"
	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// idemBatch is batch() from producer pid with the given sequence.
func idemBatch(pid int64, epoch int16, seq int32) recordbatch.Batch {
	b := batch()
	binary.BigEndian.PutUint64(b[43:], uint64(pid))
	binary.BigEndian.PutUint16(b[51:], uint16(epoch))
	binary.BigEndian.PutUint32(b[53:], uint32(seq))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func openOn(t *testing.T, fsys vfs.FS, segmentBytes int64) *Partition {
	t.Helper()
	log, err := commitlog.Open(fsys, "/data/t-0", commitlog.Config{SegmentBytes: segmentBytes})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(log, "t", 0, Config{Fsync: FsyncAlways, MaxMessageBytes: 1 << 20, FS: fsys}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func appendDurable(t *testing.T, p *Partition, b recordbatch.Batch) AppendResult {
	t.Helper()
	res, err := p.Append(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitDurable(context.Background(), res.NextOffset); err != nil {
		t.Fatal(err)
	}
	return res
}

// A retry of a batch acknowledged before a restart is still recognised
// after it: with the snapshot of a clean shutdown, and after a crash
// (power loss: only synced bytes, no snapshot) by replaying the log.
func TestProducerStateSurvivesRestart(t *testing.T) {
	for _, crash := range []bool{false, true} {
		mem := vfs.NewMem()
		p := openOn(t, mem, 0)
		appendDurable(t, p, batch()) // offset 0: a plain batch
		for seq := int32(0); seq < 5; seq++ {
			if res := appendDurable(t, p, idemBatch(7, 0, seq)); res.BaseOffset != int64(seq)+1 {
				t.Fatalf("seq %d at offset %d", seq, res.BaseOffset)
			}
		}
		fsys := vfs.FS(mem)
		if crash {
			fsys = mem.CrashClone()
		}
		p.Close()
		p = openOn(t, fsys, 0)
		if _, _, err := fsys.Stat("/data/t-0/producer.snapshot"); (err == nil) == crash {
			t.Fatalf("crash=%v: snapshot present=%v", crash, err == nil)
		}
		res, err := p.Append(idemBatch(7, 0, 2))
		if err != nil || !res.Duplicate || res.BaseOffset != 3 || p.LogEndOffset() != 6 {
			t.Fatalf("crash=%v: retry of seq 2: %+v %v, log end %d", crash, res, err, p.LogEndOffset())
		}
		if _, err := p.Append(idemBatch(7, 0, 9)); err == nil {
			t.Fatalf("crash=%v: a sequence gap was accepted", crash)
		}
		if res := appendDurable(t, p, idemBatch(7, 0, 5)); res.BaseOffset != 6 || res.Duplicate {
			t.Fatalf("crash=%v: next sequence: %+v", crash, res)
		}
		if got := p.Producers(); len(got) != 1 || got[0].ProducerID != 7 || got[0].LastSequence != 5 {
			t.Fatalf("crash=%v: producers %+v", crash, got)
		}
		p.Close()
	}
}

// A snapshot is written when the log rolls, covering everything before.
func TestProducerSnapshotOnRoll(t *testing.T) {
	mem := vfs.NewMem()
	p := openOn(t, mem, 1024)
	defer p.Close()
	for seq := int32(0); p.Segments() < 2; seq++ {
		appendDurable(t, p, idemBatch(3, 0, seq))
	}
	f, err := mem.Open("/data/t-0/producer.snapshot")
	if err != nil {
		t.Fatalf("no snapshot after the roll: %v", err)
	}
	defer f.Close()
	size, _ := f.Size()
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil {
		t.Fatal(err)
	}
	st, at, err := producerstate.Restore(data, producerstate.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// As of the new segment's first offset, before the batch that rolled:
	// only what the roll synced (an abort marker's index entry included).
	if first := p.LogEndOffset() - 1; at != first {
		t.Fatalf("snapshot at offset %d, want %d (the new segment's base)", at, first)
	}
	if last := st.Producers()[0].LastSequence; last != int32(p.LogEndOffset()-2) {
		t.Fatalf("snapshot's last sequence %d, want %d: it must not hold the batch that rolled", last, p.LogEndOffset()-2)
	}
}
