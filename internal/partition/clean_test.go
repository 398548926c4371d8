package partition

import (
	"encoding/binary"
	"testing"
	"time"

	"sluice/internal/commitlog"
	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// keyedIdem is a batch of records with keys from producer pid at seq.
func keyedIdem(pid int64, seq int32, kvs ...string) recordbatch.Batch {
	var rs []recordbatch.Record
	for i := 0; i+1 < len(kvs); i += 2 {
		rs = append(rs, recordbatch.Record{Key: []byte(kvs[i]), Value: []byte(kvs[i+1])})
	}
	b := recordbatch.Batch(recordbatch.Build(nil, rs, time.Now().UnixMilli(), 0))
	binary.BigEndian.PutUint64(b[43:], uint64(pid))
	binary.BigEndian.PutUint16(b[51:], 0)
	binary.BigEndian.PutUint32(b[53:], uint32(seq))
	binary.BigEndian.PutUint32(b[17:], b.ComputeCRC())
	return b
}

// After a cleaning removes records of an idempotent producer's batches,
// producer state rebuilt from the log (a crash, no snapshot) still has the
// producer's last sequence: the cleaner kept its last batch as an empty
// header, and sequences come from the last offset delta, not the count.
func TestProducerStateAfterCleaning(t *testing.T) {
	mem := vfs.NewMem()
	openCompacted := func(fsys vfs.FS) *Partition {
		log, err := commitlog.Open(fsys, "/data/t-0", commitlog.Config{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := Open(log, "t", 0, Config{Fsync: FsyncAlways, MaxMessageBytes: 1 << 20,
			Compaction: Compaction{Enabled: true, MinDirtyRatio: 0.5}}, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := openCompacted(mem)
	appendDurable(t, p, keyedIdem(7, 0, "a", "1", "b", "1"))
	appendDurable(t, p, keyedIdem(7, 2, "a", "2", "c", "2"))
	appendDurable(t, p, keyedIdem(-1, -1, "a", "3", "b", "3", "c", "3"))
	if err := p.Roll(); err != nil {
		t.Fatal(err)
	}
	res, err := p.Clean(time.Now(), CleanOptions{})
	if err != nil || res.RecordsDropped != 4 {
		t.Fatalf("clean: %+v %v", res, err)
	}
	p.Close()

	p = openCompacted(mem.CrashClone())
	defer p.Close()
	dup, err := p.Append(keyedIdem(7, 2, "a", "2", "c", "2"))
	if err != nil || !dup.Duplicate || dup.BaseOffset != 2 {
		t.Fatalf("retry of the last batch: %+v %v", dup, err)
	}
	if _, err := p.Append(keyedIdem(7, 4, "d", "4")); err != nil {
		t.Fatalf("the producer's next sequence after cleaning: %v", err)
	}
}
