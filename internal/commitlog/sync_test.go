package commitlog

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"sluice/internal/vfs"
)

// faults is an injection switch for vfs.ErrorFS.
type faults struct {
	mu   sync.Mutex
	op   string
	file string // substring of the name; "" matches any
	err  error
}

func (f *faults) set(op, file string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.op, f.file, f.err = op, file, err
}

func (f *faults) inject(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if op == f.op && strings.Contains(name, f.file) {
		return f.err
	}
	return nil
}

func TestFailedSyncIsSticky(t *testing.T) {
	m := vfs.NewMem()
	var f faults
	l := openLog(t, vfs.NewErrorFS(m, f.inject), Config{})
	appendN(t, l, 2, t0)
	eio := errors.New("EIO")
	f.set(vfs.OpSync, ".log", eio)
	err := l.Sync()
	if !errors.Is(err, eio) {
		t.Fatalf("Sync = %v, want EIO", err)
	}
	f.set("", "", nil) // the disk "recovers": the log must not
	if err2 := l.Sync(); err2 != err {
		t.Fatalf("second Sync = %v, want the first error %v", err2, err)
	}
	if err2 := l.Append(makeBatch(6, 1, 1, 0), t0); err2 != err {
		t.Fatalf("Append = %v, want the first error", err2)
	}
	if err2 := l.TruncateTo(3); err2 != err {
		t.Fatalf("TruncateTo = %v, want the first error", err2)
	}
	if l.NextOffset() != 6 || l.SyncedOffset() != 0 {
		t.Fatalf("next %d synced %d", l.NextOffset(), l.SyncedOffset())
	}
	// Reads still work.
	checkWhole(t, readAll(t, l, 0), 0, 6)
	if err2 := l.Close(); err2 != err {
		t.Fatalf("Close = %v", err2)
	}
}

func TestFailedWriteIsSticky(t *testing.T) {
	var f faults
	l := openLog(t, vfs.NewErrorFS(vfs.NewMem(), f.inject), Config{})
	appendN(t, l, 1, t0)
	enospc := errors.New("ENOSPC")
	f.set(vfs.OpWrite, ".log", enospc)
	err := l.Append(makeBatch(3, 1, 1, 0), t0)
	if !errors.Is(err, enospc) {
		t.Fatalf("Append = %v", err)
	}
	f.set("", "", nil)
	if err2 := l.Append(makeBatch(3, 1, 1, 0), t0); err2 != err {
		t.Fatalf("later Append = %v", err2)
	}
	if err2 := l.Sync(); err2 != err {
		t.Fatalf("later Sync = %v", err2)
	}
	if l.NextOffset() != 3 {
		t.Fatalf("NextOffset %d", l.NextOffset())
	}
}

func TestFailedRollSyncAndSyncDirAreSticky(t *testing.T) {
	var f faults
	l := openLog(t, vfs.NewErrorFS(vfs.NewMem(), f.inject), Config{SegmentBytes: testBatchSize})
	appendN(t, l, 1, t0)
	eio := errors.New("EIO")
	f.set(vfs.OpSync, "00000000000000000000.log", eio)
	err := l.Append(makeBatch(3, 1, 1, 0), t0) // rolls: fsyncs segment 0
	if !errors.Is(err, eio) || l.Segments() != 1 {
		t.Fatalf("rolling Append = %v, segments %d", err, l.Segments())
	}
	f.set("", "", nil)
	if l.Sync() != err {
		t.Fatal("not sticky")
	}

	var g faults
	l2 := openLog(t, vfs.NewErrorFS(vfs.NewMem(), g.inject), Config{SegmentBytes: testBatchSize})
	appendN(t, l2, 2, t0) // rolled: the directory is dirty
	g.set(vfs.OpSyncDir, "", eio)
	if err := l2.Sync(); !errors.Is(err, eio) {
		t.Fatalf("Sync with failing SyncDir = %v", err)
	}
	g.set("", "", nil)
	if err := l2.Append(makeBatch(6, 1, 1, 0), t0); !errors.Is(err, eio) {
		t.Fatalf("Append after SyncDir failure = %v", err)
	}
}

func TestFailedIndexWriteIsNotFatal(t *testing.T) {
	m := vfs.NewMem()
	var f faults
	l := openLog(t, vfs.NewErrorFS(m, f.inject), Config{SegmentBytes: testBatchSize})
	f.set(vfs.OpCreate, ".index", errors.New("EMFILE"))
	batches := appendN(t, l, 3, t0)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	f.set("", "", nil)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, m, Config{SegmentBytes: testBatchSize})
	if !bytes.Equal(readAll(t, l, 0), concat(batches)) {
		t.Fatal("read back")
	}
}

func TestSyncMakesAppendsDurable(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{SegmentBytes: 3 * testBatchSize})
	var all [][]byte
	for i := range 5 {
		all = append(all, appendN(t, l, i+1, t0)...)
		if err := l.Sync(); err != nil {
			t.Fatal(err)
		}
		next := l.NextOffset()
		if l.SyncedOffset() != next {
			t.Fatalf("SyncedOffset %d, NextOffset %d", l.SyncedOffset(), next)
		}
		c := openLog(t, m.CrashClone(), Config{SegmentBytes: 3 * testBatchSize})
		if c.NextOffset() != next || !bytes.Equal(readAll(t, c, 0), concat(all)) {
			t.Fatalf("round %d: crash clone next %d, want %d", i, c.NextOffset(), next)
		}
	}
}

// TestConcurrentAppendReadSync runs the partition's pattern under -race:
// one appender, a group-commit flusher, readers and retention.
func TestConcurrentAppendReadSync(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{SegmentBytes: 10 * testBatchSize, IndexIntervalBytes: 300,
		RetentionBytes: 40 * testBatchSize, RetentionAge: -1})
	const total = 600
	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	wg.Add(1)
	go func() { // appender
		defer wg.Done()
		defer done.Store(true)
		for range total {
			next := l.NextOffset()
			if err := l.Append(makeBatch(next, 3, next, testBatchSize-61), t0); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Add(1)
	go func() { // flusher
		defer wg.Done()
		for !done.Load() {
			if err := l.Sync(); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Add(1)
	go func() { // retention
		defer wg.Done()
		for !done.Load() {
			if _, err := l.EnforceRetention(t0); err != nil {
				errs <- err
				return
			}
		}
	}()
	for range 3 {
		wg.Add(1)
		go func() { // readers
			defer wg.Done()
			var buf []byte
			for i := 0; !done.Load(); i++ {
				hw := l.NextOffset()
				start := l.StartOffset()
				from := start + int64(i)%(hw-start+1)
				var err error
				buf, err = l.Read(from, hw, 5*testBatchSize, buf[:0])
				if errors.Is(err, ErrOffsetOutOfRange) {
					continue // retention moved the start meanwhile
				}
				if err != nil {
					errs <- err
					return
				}
				for rest := buf; len(rest) > 0; {
					b, err := frame(rest)
					if err != nil || b.NextOffset() > hw {
						errs <- errors.New("read a bad batch")
						return
					}
					rest = rest[len(b):]
				}
				l.ReadBatchAtTimestamp(from, 0, hw)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if l.NextOffset() != 3*total {
		t.Fatalf("NextOffset %d", l.NextOffset())
	}
	l.EnforceRetention(t0)
	start := l.StartOffset()
	checkWhole(t, readAll(t, l, start), start, 3*total)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
