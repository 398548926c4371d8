package commitlog

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"sluice/internal/vfs"
)

func TestOpenEmpty(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{})
	if l.NextOffset() != 0 || l.StartOffset() != 0 || l.Segments() != 1 || l.Size() != 0 {
		t.Fatalf("empty log: next %d start %d segments %d size %d", l.NextOffset(), l.StartOffset(), l.Segments(), l.Size())
	}
	if l.Dir() != testDir {
		t.Fatalf("Dir() = %q", l.Dir())
	}
	got, err := l.Read(0, 0, 100, []byte("x"))
	if err != nil || string(got) != "x" {
		t.Fatalf("Read on empty = %q, %v", got, err)
	}
	if _, err := l.Read(1, 10, 100, nil); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read past end: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if err := l.Append(makeBatch(0, 1, 1, 0), t0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := l.Read(0, 1, 10, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
}

func TestAppendReadBack(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Config{IndexIntervalBytes: 256})
	batches := appendN(t, l, 50, t0)
	if l.NextOffset() != 150 {
		t.Fatalf("NextOffset = %d, want 150", l.NextOffset())
	}
	if l.Size() != 50*testBatchSize {
		t.Fatalf("Size = %d", l.Size())
	}
	if got := readAll(t, l, 0); !bytes.Equal(got, concat(batches)) {
		t.Fatalf("read back %d bytes, want %d identical", len(got), len(concat(batches)))
	}
	// Every offset, including mid-batch ones, starts at its whole batch.
	for off := int64(0); off < 150; off++ {
		got, err := l.Read(off, 150, testBatchSize, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, batches[off/3]) {
			t.Fatalf("Read(%d) returned a different batch", off)
		}
	}
	// dst is appended to.
	got, err := l.Read(3, 150, testBatchSize, []byte("prefix"))
	if err != nil || !bytes.Equal(got, append([]byte("prefix"), batches[1]...)) {
		t.Fatalf("Read with dst: %v", err)
	}
	// At the log end: nothing, no error.
	if got, err := l.Read(150, 150, 100, nil); err != nil || len(got) != 0 {
		t.Fatalf("Read at end = %d bytes, %v", len(got), err)
	}
}

func TestAppendRejectsBadBatches(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Config{})
	if err := l.Append(makeBatch(5, 1, 1, 0), t0); !errors.Is(err, ErrBadBatch) {
		t.Fatalf("wrong base offset: %v", err)
	}
	b := makeBatch(0, 1, 1, 10)
	b[len(b)-1] ^= 0xff
	if err := l.Append(b, t0); !errors.Is(err, ErrBadBatch) {
		t.Fatalf("bad CRC: %v", err)
	}
	if err := l.Append(append(makeBatch(0, 1, 1, 0), 0), t0); !errors.Is(err, ErrBadBatch) {
		t.Fatalf("trailing byte: %v", err)
	}
	// AppendVerified leaves the CRC to its caller, and checks the rest.
	if err := l.AppendVerified(makeBatch(5, 1, 1, 0), t0); !errors.Is(err, ErrBadBatch) {
		t.Fatalf("AppendVerified, wrong base offset: %v", err)
	}
	if err := l.AppendVerified(append(makeBatch(0, 1, 1, 0), 0), t0); !errors.Is(err, ErrBadBatch) {
		t.Fatalf("AppendVerified, trailing byte: %v", err)
	}
	short := makeBatch(0, 1, 1, 10)
	if err := l.AppendVerified(short[:len(short)-1], t0); !errors.Is(err, ErrBadBatch) {
		t.Fatalf("AppendVerified, truncated: %v", err)
	}
	wrongMagic := makeBatch(0, 1, 1, 0)
	wrongMagic[16] = 1
	if err := l.AppendVerified(wrongMagic, t0); !errors.Is(err, ErrBadBatch) {
		t.Fatalf("AppendVerified, magic 1: %v", err)
	}
	if l.NextOffset() != 0 || l.Size() != 0 {
		t.Fatalf("rejected batches changed the log")
	}
	// Rejections are not sticky.
	appendN(t, l, 1, t0)
	if err := l.AppendVerified(makeBatch(3, 1, 1, 0), t0); err != nil || l.NextOffset() != 4 {
		t.Fatalf("AppendVerified of a good batch: %v, next %d", err, l.NextOffset())
	}
}

func TestReadMaxBytesAndKIP74(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Config{SegmentBytes: 4 * testBatchSize})
	batches := appendN(t, l, 10, t0) // 3 segments: 4+4+2
	if l.Segments() != 3 {
		t.Fatalf("Segments = %d, want 3", l.Segments())
	}
	for _, c := range []struct {
		offset   int64
		maxBytes int
		want     [][]byte
	}{
		{0, 1, batches[0:1]},                     // KIP-74: first batch whole
		{0, 0, batches[0:1]},                     // even with no budget
		{0, testBatchSize*2 + 10, batches[0:2]},  // stops before exceeding
		{0, testBatchSize * 3, batches[0:3]},     // exact fit
		{9, testBatchSize * 3, batches[3:6]},     // crosses a segment boundary
		{10, testBatchSize*100 + 1, batches[3:]}, // to the end
		{27, testBatchSize - 1, batches[9:10]},   // last batch, KIP-74
		{12, testBatchSize * 4, batches[4:8]},    // a whole segment
		{13, testBatchSize*5 - 1, batches[4:8]},  // mid-batch start, next segment cut
		{24, testBatchSize * 10, batches[8:10]},  // active segment
		{29, testBatchSize * 10, batches[9:10]},  // last offset
		{0, testBatchSize * 10, batches[0:10]},   // everything
		{3, testBatchSize*2 - 1, batches[1:2]},   // budget below two batches
		{11, testBatchSize*1 + 1, batches[3:4]},  // end of first segment
		{12, testBatchSize * 100, batches[4:10]}, // from second segment start
		{15, testBatchSize * 100, batches[5:10]}, // mid segment
		{18, 2 * testBatchSize, batches[6:8]},    // exactly to segment end
		{21, 2 * testBatchSize, batches[7:9]},    // across into active segment
		{0, -5, batches[0:1]},                    // negative budget
		{28, 1 << 30, batches[9:10]},             // huge budget
		{1, testBatchSize, batches[0:1]},         // mid first batch
		{2, testBatchSize + 1, batches[0:1]},     // last offset of first batch
		{26, testBatchSize * 2, batches[8:10]},   // last offset of batch 8
		{5, testBatchSize*3 + testBatchSize/2, batches[1:4]},
	} {
		got, err := l.Read(c.offset, 30, c.maxBytes, nil)
		if err != nil {
			t.Fatalf("Read(%d, %d): %v", c.offset, c.maxBytes, err)
		}
		if !bytes.Equal(got, concat(c.want)) {
			t.Errorf("Read(%d, maxBytes %d) = %d bytes (%d batches), want %d batches",
				c.offset, c.maxBytes, len(got), len(got)/testBatchSize, len(c.want))
		}
	}
}

func TestReadMaxOffset(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Config{SegmentBytes: 4 * testBatchSize})
	batches := appendN(t, l, 10, t0)
	for _, c := range []struct {
		offset, maxOffset int64
		want              [][]byte
	}{
		{0, 9, batches[0:3]},
		{0, 10, batches[0:3]}, // batch 9-11 ends past 10
		{0, 12, batches[0:4]},
		{10, 12, batches[3:4]},
		{10, 15, batches[3:5]},
		{10, 14, batches[3:4]},
		{0, 30, batches},
		{4, 6, batches[1:2]},
		{4, 5, nil}, // containing batch ends past maxOffset
		{12, 12, nil},
		{20, 3, nil},
	} {
		got, err := l.Read(c.offset, c.maxOffset, 1<<20, nil)
		if err != nil {
			t.Fatalf("Read(%d, max %d): %v", c.offset, c.maxOffset, err)
		}
		if !bytes.Equal(got, concat(c.want)) {
			t.Errorf("Read(%d, max %d) = %d batches, want %d", c.offset, c.maxOffset, len(got)/testBatchSize, len(c.want))
		}
	}
	if _, err := l.Read(31, 40, 100, nil); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read past end: %v", err)
	}
	if _, err := l.Read(-1, 40, 100, nil); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read below start: %v", err)
	}
}

func TestRollBySize(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{SegmentBytes: 3*testBatchSize + 1})
	batches := appendN(t, l, 10, t0)
	if l.Segments() != 4 {
		t.Fatalf("Segments = %d, want 4", l.Segments())
	}
	names, _ := m.ReadDir(testDir)
	want := []string{
		"00000000000000000000.index", "00000000000000000000.log", "00000000000000000000.timeindex",
		"00000000000000000009.index", "00000000000000000009.log", "00000000000000000009.timeindex",
		"00000000000000000018.index", "00000000000000000018.log", "00000000000000000018.timeindex",
		"00000000000000000027.log", "leader-epoch.checkpoint",
	}
	if !equalStrings(names, want) {
		t.Fatalf("files = %v\nwant %v", names, want)
	}
	if got := readAll(t, l, 0); !bytes.Equal(got, concat(batches)) {
		t.Fatal("read back differs after rolls")
	}
	// A batch bigger than the segment size still goes into an empty segment.
	l2 := openLog(t, vfs.NewMem(), Config{SegmentBytes: 10})
	appendN(t, l2, 3, t0)
	if l2.Segments() != 3 {
		t.Fatalf("oversized batches: Segments = %d, want 3", l2.Segments())
	}
}

func TestRollByAge(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Config{SegmentAge: time.Hour})
	appendN(t, l, 2, t0)
	appendN(t, l, 1, t0.Add(59*time.Minute))
	if l.Segments() != 1 {
		t.Fatalf("rolled early: %d segments", l.Segments())
	}
	appendN(t, l, 1, t0.Add(time.Hour))
	if l.Segments() != 2 {
		t.Fatalf("no roll after an hour: %d segments", l.Segments())
	}
	// The new segment ages from its own first append.
	appendN(t, l, 1, t0.Add(time.Hour+59*time.Minute))
	if l.Segments() != 2 {
		t.Fatalf("new segment rolled early: %d segments", l.Segments())
	}
	appendN(t, l, 1, t0.Add(2*time.Hour))
	if l.Segments() != 3 {
		t.Fatalf("Segments = %d, want 3", l.Segments())
	}
	// SetConfig applies at run time.
	l.SetConfig(Config{SegmentAge: time.Minute})
	appendN(t, l, 1, t0.Add(2*time.Hour+time.Minute))
	if l.Segments() != 4 {
		t.Fatalf("after SetConfig Segments = %d, want 4", l.Segments())
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
