package commitlog

import (
	"bytes"
	"strings"
	"testing"

	"sluice/internal/vfs"
)

func fileSize(t *testing.T, fsys vfs.FS, name string) int64 {
	t.Helper()
	size, _, err := fsys.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return size
}

// The active segment's file runs ahead of its batches in zeros, in
// extensions of 64 KiB doubling up to PreallocateBytes and never past the
// roll size; roll and Close cut it back to its batches.
func TestPreallocationExtendsAheadAndIsCutAtRollAndClose(t *testing.T) {
	m := vfs.NewMem()
	const segBytes = 1 << 20
	l := openLog(t, m, Config{SegmentBytes: segBytes, PreallocateBytes: 256 << 10})
	appendN(t, l, 1, t0)
	name := segPath(0, logSuffix)
	if got, want := fileSize(t, m, name), int64(testBatchSize+64<<10); got != want {
		t.Fatalf("after the first append the file holds %d bytes, want %d (the batch and 64 KiB of zeros)", got, want)
	}
	if !isZero(fileBytes(t, m, name)[testBatchSize:]) {
		t.Fatal("the preallocated space is not zeros")
	}
	// Appends inside the extension do not grow the file.
	appendN(t, l, 100, t0)
	if got, want := fileSize(t, m, name), int64(testBatchSize+64<<10); got != want {
		t.Fatalf("appends inside the preallocated space grew the file to %d, want %d", got, want)
	}
	// The next extensions: 128 KiB, then 256 KiB (the cap), then 256 KiB.
	var sizes []int64
	last := fileSize(t, m, name)
	for l.Size() < 600<<10 {
		appendN(t, l, 1, t0)
		if s := fileSize(t, m, name); s != last {
			sizes = append(sizes, s-l.Size())
			last = s
		}
	}
	if want := []int64{128 << 10, 256 << 10, 256 << 10}; len(sizes) < 3 || sizes[0] != want[0] || sizes[1] != want[1] || sizes[2] != want[2] {
		t.Fatalf("extensions past the batches %v, want %v", sizes, want)
	}
	// Never past the roll size.
	for l.Segments() == 1 {
		if s := fileSize(t, m, name); s > segBytes {
			t.Fatalf("the file grew to %d bytes, past the segment size %d", s, segBytes)
		}
		appendN(t, l, 1, t0)
	}
	if got, want := fileSize(t, m, name), l.segs[0].size.Load(); got != want {
		t.Fatalf("the rolled segment's file holds %d bytes, its batches %d", got, want)
	}
	second := segPath(l.segs[1].base, logSuffix)
	if fileSize(t, m, second) <= l.segs[1].size.Load() {
		t.Fatal("the new active segment is not preallocated")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Close cut it, durably: a crash now keeps a log without zeros.
	crashed := m.CrashClone()
	for _, fsys := range []vfs.FS{m, crashed} {
		size, _, _ := fsys.Stat(second)
		data := fileBytes(t, fsys, second)
		if size == 0 || isZero(data[len(data)-recordbatchSize(t, data):]) {
			t.Fatalf("closed segment ends in zeros (%d bytes)", size)
		}
	}
	var buf logBuffer
	l = openLog(t, crashed, Config{SegmentBytes: segBytes, CleanShutdown: true, Logger: newLogger(&buf)})
	defer l.Close()
	if strings.Contains(buf.String(), "preallocated") || strings.Contains(buf.String(), "level=WARN") {
		t.Fatalf("a start after Close found something to cut:\n%s", buf.String())
	}
}

// recordbatchSize is the size of the last whole batch of data, for a
// check that the file does not end in zeros.
func recordbatchSize(t *testing.T, data []byte) int {
	t.Helper()
	var last []byte
	for len(data) > 0 {
		b, err := frame(data)
		if err != nil {
			t.Fatalf("closed segment does not end with a whole batch: %v", err)
		}
		last, data = b, data[len(b):]
	}
	return len(last)
}

// A crash leaves the zeros after the synced batches; recovery drops them
// with an info line, not as a torn tail, and appends continue.
func TestCrashDropsPreallocatedZeros(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{})
	batches := appendN(t, l, 10, t0)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 5, t0) // never synced: the crash takes them
	crashed := m.CrashClone()
	name := segPath(0, logSuffix)
	if size := fileSize(t, crashed, name); size <= int64(10*testBatchSize) {
		t.Fatalf("the synced file holds %d bytes: no preallocated space to drop", size)
	}
	for _, clean := range []bool{false, true} {
		// Even a clean-shutdown start drops an all-zero tail: zeros are
		// never a batch, so nothing acknowledged can be among them.
		fsys := crashed.CrashClone()
		var buf logBuffer
		l := openLog(t, fsys, Config{CleanShutdown: clean, Logger: newLogger(&buf)})
		if l.NextOffset() != 30 {
			t.Fatalf("clean=%v: recovered log end %d, want 30", clean, l.NextOffset())
		}
		if got := readAll(t, l, 0); !bytes.Equal(got, concat(batches)) {
			t.Fatalf("clean=%v: recovered batches differ", clean)
		}
		if !strings.Contains(buf.String(), "dropped preallocated space") || strings.Contains(buf.String(), "torn tail") {
			t.Fatalf("clean=%v: recovery logged:\n%s", clean, buf.String())
		}
		if size := fileSize(t, fsys, name); size != int64(10*testBatchSize) {
			t.Fatalf("clean=%v: the file holds %d bytes after recovery, want %d", clean, size, 10*testBatchSize)
		}
		more := appendN(t, l, 2, t0)
		if got := readAll(t, l, 30); !bytes.Equal(got, concat(more)) {
			t.Fatalf("clean=%v: appends after recovery", clean)
		}
		l.Close()
	}
}

// A torn batch before the zeros is still a torn tail: cut after a crash,
// refused after a clean shutdown, where nothing can be torn.
func TestTornBatchBeforeZerosIsATornTail(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{})
	appendN(t, l, 4, t0)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	crashed := m.CrashClone()
	l.Close()
	name := segPath(0, logSuffix)
	f, err := crashed.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	half := makeBatch(12, 3, 5000, 39)[:30]
	if _, err := f.WriteAt(half, 4*testBatchSize); err != nil {
		t.Fatal(err)
	}
	f.Sync()
	f.Close()

	if _, err := Open(crashed.CrashClone(), testDir, Config{CleanShutdown: true}); err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("clean-shutdown open of a torn batch before zeros: %v, want a refusal naming %s", err, name)
	}
	var buf logBuffer
	l = openLog(t, crashed, Config{Logger: newLogger(&buf)})
	defer l.Close()
	if l.NextOffset() != 12 || !strings.Contains(buf.String(), "truncated torn tail") {
		t.Fatalf("recovered log end %d, logged:\n%s", l.NextOffset(), buf.String())
	}
}

// PreallocateBytes < 0 turns it off: the file is exactly its batches.
func TestPreallocationOff(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{PreallocateBytes: -1})
	defer l.Close()
	appendN(t, l, 7, t0)
	if got := fileSize(t, m, segPath(0, logSuffix)); got != 7*testBatchSize {
		t.Fatalf("file holds %d bytes, want %d", got, 7*testBatchSize)
	}
}

// Preallocation follows the size of the syncs: after one that covered
// 32 KiB or more, appends grow the file (a second write of every byte
// would cost more than the fsyncs save); after a small one, the file is
// extended again.
func TestPreallocationOnlyWhileSyncsAreSmall(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{})
	defer l.Close()
	name := segPath(0, logSuffix)
	syncN := func(n int) {
		t.Helper()
		appendN(t, l, n, t0)
		if err := l.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	// 64 KiB of batches in one sync: large.
	syncN(64 << 10 / testBatchSize)
	grownTo := fileSize(t, m, name)
	// Use up what the first append preallocated, then some.
	for l.Size() <= grownTo+testBatchSize {
		appendN(t, l, 1, t0)
	}
	if got := fileSize(t, m, name); got != l.Size() {
		t.Fatalf("after a large sync the file holds %d bytes, its batches %d: it was extended", got, l.Size())
	}
	// A small sync: the next append past the end extends again.
	syncN(1)
	appendN(t, l, 1, t0)
	if got := fileSize(t, m, name); got <= l.Size() {
		t.Fatalf("after a small sync the file holds %d bytes, its batches %d: not extended", got, l.Size())
	}
}
