package commitlog

import (
	"errors"
	"os"
	"slices"
	"testing"

	"sluice/internal/vfs"
)

func entry(pid, first, last, lso int64) AbortedEntry {
	return AbortedEntry{ProducerID: pid, FirstOffset: first, LastOffset: last, LastStableOffset: lso}
}

func mustAdd(t *testing.T, l *Log, e AbortedEntry) {
	t.Helper()
	if err := l.AddAborted(e); err != nil {
		t.Fatal(err)
	}
}

// Kafka's rule for a fetch of [from, to): entries whose marker is at or
// after from and whose transaction began before to, sorted by first
// offset.
func TestAbortedTxnsInRange(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Config{})
	appendN(t, l, 10, t0) // offsets 0..29
	mustAdd(t, l, entry(1, 2, 5, 6))
	mustAdd(t, l, entry(2, 0, 9, 10))
	mustAdd(t, l, entry(3, 12, 14, 15))
	mustAdd(t, l, entry(3, 12, 14, 15)) // a replay of the same marker
	mustAdd(t, l, entry(4, 20, 25, 26))
	cases := []struct {
		from, to int64
		want     []int64 // producer ids
	}{
		{0, 30, []int64{2, 1, 3, 4}},
		{6, 12, []int64{2}},
		{6, 13, []int64{2, 3}},
		{15, 20, nil},
		{15, 21, []int64{4}},
	}
	for _, c := range cases {
		var got []int64
		for _, e := range l.AbortedTxns(c.from, c.to) {
			got = append(got, e.ProducerID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("[%d, %d): %v, want %v", c.from, c.to, got, c.want)
		}
	}
}

// An entry is durable with the Sync that makes its marker durable: it is
// there after a power loss and after a clean restart; an entry whose
// marker a crash cut is dropped with it.
func TestAbortedIndexSurvivesCrashAndRestart(t *testing.T) {
	mem := vfs.NewMem()
	l := openLog(t, mem, Config{SegmentBytes: 4 * testBatchSize})
	appendN(t, l, 6, t0) // two segments
	mustAdd(t, l, entry(1, 0, 2, 3))
	mustAdd(t, l, entry(2, 9, 14, 15))
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 1, t0)                // 18..20, not synced
	mustAdd(t, l, entry(3, 16, 20, 21)) // its marker is lost in the crash
	crashed := mem.CrashClone()
	l.Close()

	for name, fsys := range map[string]*vfs.MemFS{"crash": crashed, "clean": mem} {
		l2 := openLog(t, fsys, Config{SegmentBytes: 4 * testBatchSize})
		var got []int64
		for _, e := range l2.AbortedTxns(0, l2.NextOffset()) {
			got = append(got, e.ProducerID)
		}
		want := []int64{1, 2}
		if name == "clean" {
			want = []int64{1, 2, 3}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: aborted %v, want %v", name, got, want)
		}
		l2.Close()
	}
}

// Retention deletes a segment's index with it; truncation drops the
// entries of the markers it removes.
func TestAbortedIndexFollowsRetentionAndTruncation(t *testing.T) {
	mem := vfs.NewMem()
	l := openLog(t, mem, Config{SegmentBytes: 4 * testBatchSize, RetentionBytes: 1})
	appendN(t, l, 9, t0) // three segments: 0..11, 12..23, 24..26
	mustAdd(t, l, entry(1, 0, 5, 6))
	mustAdd(t, l, entry(2, 13, 20, 21))
	if _, err := l.EnforceRetention(t0); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Open(testDir + "/00000000000000000000.txnindex"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("index of a deleted segment: %v", err)
	}
	if got := l.AbortedTxns(l.StartOffset(), l.NextOffset()); len(got) != 0 {
		t.Fatalf("entries of deleted segments: %v", got)
	}
	l.Close()
	l = openLog(t, mem, Config{SegmentBytes: 4 * testBatchSize})
	defer l.Close()
	appendN(t, l, 4, t0)
	mustAdd(t, l, entry(3, 27, 30, 31))
	mustAdd(t, l, entry(4, 31, 33, 34))
	if err := l.TruncateTo(33); err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, e := range l.AbortedTxns(0, 40) {
		got = append(got, e.ProducerID)
	}
	if !slices.Equal(got, []int64{3}) {
		t.Fatalf("after truncation: %v", got)
	}
}

// An index entry that does not decode is refused like a damaged segment;
// a torn last entry is dropped.
func TestDamagedAbortedIndex(t *testing.T) {
	mem := vfs.NewMem()
	l := openLog(t, mem, Config{})
	appendN(t, l, 4, t0)
	mustAdd(t, l, entry(1, 0, 5, 6))
	mustAdd(t, l, entry(2, 6, 8, 9))
	l.Close()
	name := testDir + "/00000000000000000000.txnindex"
	data := fileBytes(t, mem, name)

	mustWrite(t, mem, name, append(slices.Clone(data), 0, 0, 0)) // torn
	l = openLog(t, mem, Config{})
	if got := l.AbortedTxns(0, 12); len(got) != 2 {
		t.Fatalf("torn tail: %v", got)
	}
	l.Close()

	bad := slices.Clone(data)
	bad[txnEntrySize] = 7 // second entry's version
	mustWrite(t, mem, name, bad)
	if _, err := Open(mem, testDir, Config{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged entry: %v", err)
	}
}

func mustWrite(t *testing.T, fsys vfs.FS, name string, data []byte) {
	t.Helper()
	if err := vfs.WriteFile(fsys, name, data); err != nil {
		t.Fatal(err)
	}
}
