package commitlog

import (
	"bytes"
	"errors"
	"testing"

	"sluice/internal/vfs"
)

func TestTruncateTo(t *testing.T) {
	m := vfs.NewMem()
	cfg := Config{SegmentBytes: 4 * testBatchSize, IndexIntervalBytes: testBatchSize}
	l := openLog(t, m, cfg)
	batches := appendN(t, l, 14, t0) // segments 0, 12, 24, 36 (2 batches)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateTo(16); !errors.Is(err, ErrNotBoundary) {
		t.Fatalf("mid-batch: %v", err)
	}
	if err := l.TruncateTo(43); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("past end: %v", err)
	}
	if err := l.TruncateTo(42); err != nil || l.NextOffset() != 42 {
		t.Fatalf("truncate to end: %v", err)
	}
	if err := l.TruncateTo(18); err != nil {
		t.Fatal(err)
	}
	if l.NextOffset() != 18 || l.Segments() != 2 || l.Size() != 6*testBatchSize || l.SyncedOffset() != 18 {
		t.Fatalf("next %d segments %d size %d synced %d", l.NextOffset(), l.Segments(), l.Size(), l.SyncedOffset())
	}
	if !bytes.Equal(readAll(t, l, 0), concat(batches[:6])) {
		t.Fatal("read after truncate")
	}
	if b, _ := l.BatchWithMaxTimestamp(100); !bytes.Equal(b, batches[5]) {
		t.Fatal("max timestamp after truncate")
	}
	if b, _ := l.ReadBatchAtTimestamp(7000, 0, 100); b != nil {
		t.Fatal("found a truncated batch by time")
	}
	// Durable without a further Sync.
	c := openLog(t, m.CrashClone(), cfg)
	if c.NextOffset() != 18 || !bytes.Equal(readAll(t, c, 0), concat(batches[:6])) {
		t.Fatalf("after crash next %d", c.NextOffset())
	}
	// Appends continue with new bytes at the cut; the indexes follow.
	more := appendN(t, l, 5, t0)
	want := concat(append(batches[:6:6], more...))
	if !bytes.Equal(readAll(t, l, 0), want) {
		t.Fatal("read after re-append")
	}
	for off := int64(0); off < l.NextOffset(); off++ {
		got, err := l.Read(off, l.NextOffset(), 1, nil)
		if err != nil || !bytes.Equal(got, want[off/3*testBatchSize:(off/3+1)*testBatchSize]) {
			t.Fatalf("Read(%d): %v", off, err)
		}
	}
	// To a segment's base: it stays as the empty active segment.
	if err := l.TruncateTo(12); err != nil {
		t.Fatal(err)
	}
	if l.NextOffset() != 12 || l.Segments() != 2 || l.Size() != 4*testBatchSize {
		t.Fatalf("next %d segments %d size %d", l.NextOffset(), l.Segments(), l.Size())
	}
	l.Close()
	l = openLog(t, m, cfg)
	if l.NextOffset() != 12 || !bytes.Equal(readAll(t, l, 0), concat(batches[:4])) {
		t.Fatalf("reopen next %d", l.NextOffset())
	}
	if err := l.TruncateTo(0); err != nil || l.NextOffset() != 0 || l.Size() != 0 {
		t.Fatalf("truncate to 0: %v next %d", err, l.NextOffset())
	}
}

func TestTimestampLookups(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Config{SegmentBytes: 3 * testBatchSize})
	// Max timestamps per batch; not monotonic, as producers' clocks are not.
	tss := []int64{100, 300, 200, 300, 250, 500, 400, 500, 450}
	var batches [][]byte
	for i, ts := range tss {
		b := makeBatch(int64(2*i), 2, ts, 7)
		if err := l.Append(b, t0); err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b)
	}
	for _, c := range []struct {
		ts, maxOffset int64
		want          int // batch index, -1 for none
	}{
		{0, 100, 0}, {100, 100, 0}, {101, 100, 1}, {300, 100, 1}, {301, 100, 5},
		{450, 100, 5}, {500, 100, 5}, {501, 100, -1},
		{301, 10, -1}, // batch 5 starts at offset 10: not below maxOffset
		{301, 12, 5},
		{301, 11, -1}, // batch 5 ends past maxOffset
	} {
		got, err := l.ReadBatchAtTimestamp(c.ts, 0, c.maxOffset)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		if c.want >= 0 {
			want = batches[c.want]
		}
		if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("ReadBatchAtTimestamp(%d, %d) = %d bytes, want batch %d", c.ts, c.maxOffset, len(got), c.want)
		}
	}
	for _, c := range []struct {
		maxOffset int64
		want      int
	}{{100, 5}, {18, 5}, {12, 5}, {11, 1}, {10, 1}, {3, 0}, {2, 0}, {1, -1}, {0, -1}} {
		got, err := l.BatchWithMaxTimestamp(c.maxOffset)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		if c.want >= 0 {
			want = batches[c.want]
		}
		if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("BatchWithMaxTimestamp(%d) = %d bytes, want batch %d", c.maxOffset, len(got), c.want)
		}
	}
	empty := openLog(t, vfs.NewMem(), Config{})
	if b, err := empty.BatchWithMaxTimestamp(10); b != nil || err != nil {
		t.Fatal("empty log has a max timestamp batch")
	}
}
