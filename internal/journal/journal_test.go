package journal

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sluice/internal/vfs"
)

const dir = "/data/__sluice_journal"

func key(p int32) Key { return Key{Topic: [16]byte{1, 2, 3}, Partition: p} }

func batchOf(i int) []byte { return []byte(fmt.Sprintf("batch-%04d-%s", i, strings.Repeat("x", i%7))) }

func start(t *testing.T, fsys vfs.FS, opts Options) *Journal {
	t.Helper()
	j, err := New(fsys, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(); err != nil {
		t.Fatal(err)
	}
	return j
}

func appendSync(t *testing.T, j *Journal, k Key, b []byte) {
	t.Helper()
	pos, err := j.Append(k, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Sync(pos); err != nil {
		t.Fatal(err)
	}
}

func recoverAll(t *testing.T, fsys vfs.FS) *Recovered {
	t.Helper()
	r, err := Recover(fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantBatches(t *testing.T, got []Entry, want ...[]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d batches recovered, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].Batch, want[i]) {
			t.Fatalf("batch %d: %q, want %q", i, got[i].Batch, want[i])
		}
	}
}

// What was synced survives a power loss, per partition in append order;
// what was only appended does not, and costs nothing to read.
func TestSyncedRecordsSurvivePowerLoss(t *testing.T) {
	m := vfs.NewMem()
	j := start(t, m, Options{})
	var want0, want1 [][]byte
	for i := range 20 {
		b := batchOf(i)
		appendSync(t, j, key(int32(i%2)), b)
		if i%2 == 0 {
			want0 = append(want0, b)
		} else {
			want1 = append(want1, b)
		}
	}
	if _, err := j.Append(key(0), []byte("never synced")); err != nil {
		t.Fatal(err)
	}
	r := recoverAll(t, m.CrashClone())
	wantBatches(t, r.For(key(0)), want0...)
	wantBatches(t, r.For(key(1)), want1...)
	if n, _ := r.Files(); n != 1 {
		t.Fatalf("%d files", n)
	}
}

// Concurrent appenders share syncs: every Sync returns with its record
// durable, with fewer fsyncs than records.
func TestGroupCommit(t *testing.T) {
	var fsyncs atomic.Int64
	m := vfs.NewMem()
	fsys := vfs.NewErrorFS(m, func(op, name string) error {
		if op == vfs.OpSync && strings.HasSuffix(name, fileSuffix) {
			fsyncs.Add(1)
			time.Sleep(200 * time.Microsecond) // a disk's fsync takes time; appends meanwhile wait for the next
		}
		return nil
	})
	j := start(t, fsys, Options{})
	before := fsyncs.Load()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				appendSync(t, j, key(int32(w)), batchOf(i))
			}
		}()
	}
	wg.Wait()
	r := recoverAll(t, m.CrashClone())
	for w := range writers {
		if n := len(r.For(key(int32(w)))); n != each {
			t.Fatalf("partition %d: %d records durable, want %d", w, n, each)
		}
	}
	if n := fsyncs.Load() - before; n > writers*each/2 {
		t.Fatalf("%d fsyncs for %d records: no sharing", n, writers*each)
	} else {
		t.Logf("%d fsyncs for %d records", n, writers*each)
	}
}

// A torn record at the end of the last file ends the reading without an
// error; the same in a file before the last is refused, naming the file
// and the position, and nothing is changed.
func TestTornTailAndDamage(t *testing.T) {
	m := vfs.NewMem()
	// Checkpoints fail, so every full file stays.
	j := start(t, m, Options{FileBytes: 200, SyncAll: func() error { return errors.New("kept") }})
	var all [][]byte
	for i := range 12 {
		b := batchOf(i)
		appendSync(t, j, key(0), b)
		all = append(all, b)
	}
	j.Close(false)
	names, _, _ := listFiles(m, dir)
	if len(names) < 3 {
		t.Fatalf("%d files, want several", len(names))
	}
	last := path.Join(dir, names[len(names)-1])
	f, _ := m.Open(last)
	size, _ := f.Size()
	f.WriteAt([]byte{0, 0, 1, 0, 9, 9}, size) // a record header cut short
	f.Sync()
	f.Close()
	wantBatches(t, recoverAll(t, m).For(key(0)), all...)

	second := path.Join(dir, names[1])
	f, _ = m.Open(second)
	f.WriteAt([]byte{0xff}, int64(len(magic))+headerSize) // inside the first record's batch
	f.Sync()
	f.Close()
	before := snapshot(t, m)
	_, err := Recover(m, dir)
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), second) || !strings.Contains(err.Error(), "at byte 8") {
		t.Fatalf("Recover of a damaged file before the last: %v", err)
	}
	if after := snapshot(t, m); after != before {
		t.Fatal("a refused Recover changed the files")
	}
}

func snapshot(t *testing.T, m *vfs.MemFS) string {
	t.Helper()
	var b strings.Builder
	for _, f := range m.Files() {
		h, _ := m.Open(f)
		size, _ := h.Size()
		data := make([]byte, size)
		h.ReadAt(data, 0)
		h.Close()
		fmt.Fprintf(&b, "%s %x\n", f, data)
	}
	return b.String()
}

// A full file starts a checkpoint: the partitions are synced, then the
// full file is deleted. A failed SyncAll keeps it.
func TestCheckpointDeletesFullFilesAfterSyncAll(t *testing.T) {
	m := vfs.NewMem()
	var calls atomic.Int64
	fail := atomic.Bool{}
	j := start(t, m, Options{FileBytes: 300, SyncAll: func() error {
		calls.Add(1)
		if fail.Load() {
			return errors.New("injected")
		}
		return nil
	}})
	fail.Store(true)
	for i := range 10 {
		appendSync(t, j, key(0), batchOf(i))
	}
	j.checkpointing.Wait()
	failedCalls := calls.Load()
	if names, _, _ := listFiles(m, dir); failedCalls == 0 || len(names) < 2 {
		t.Fatalf("after failed checkpoints: %d SyncAll calls, files %v", failedCalls, names)
	}
	fail.Store(false)
	for i := 10; i < 20; i++ {
		appendSync(t, j, key(0), batchOf(i))
	}
	j.checkpointing.Wait()
	names, _, _ := listFiles(m, dir)
	if len(names) != 1 {
		t.Fatalf("after a checkpoint the files are %v, want the current one only", names)
	}
	if err := j.Close(true); err != nil {
		t.Fatal(err)
	}
	if names, _, _ := listFiles(m, dir); len(names) != 0 {
		t.Fatalf("after a clean close: %v", names)
	}
}

// Close without clean keeps the files for the next start, which reads
// them; Discard deletes them.
func TestReplayThenDiscard(t *testing.T) {
	m := vfs.NewMem()
	j := start(t, m, Options{})
	appendSync(t, j, key(3), []byte("kept"))
	j.Close(false)
	r := recoverAll(t, m)
	wantBatches(t, r.For(key(3)), []byte("kept"))
	if err := r.Discard(dir); err != nil {
		t.Fatal(err)
	}
	j = start(t, m, Options{})
	defer j.Close(true)
	if names, _, _ := listFiles(m, dir); len(names) != 1 {
		t.Fatalf("files %v, want only the new one", names)
	}
	if len(recoverAll(t, m).For(key(3))) != 0 {
		t.Fatal("discarded records recovered")
	}
}

// A failed fsync is sticky: that Sync and every later one fail.
func TestSyncFailureIsSticky(t *testing.T) {
	var failing atomic.Bool
	fsys := vfs.NewErrorFS(vfs.NewMem(), func(op, name string) error {
		if failing.Load() && op == vfs.OpSync {
			return errors.New("injected fsync failure")
		}
		return nil
	})
	j := start(t, fsys, Options{})
	appendSync(t, j, key(0), []byte("a"))
	failing.Store(true)
	pos, _ := j.Append(key(0), []byte("b"))
	if err := j.Sync(pos); err == nil {
		t.Fatal("sync succeeded through a failed fsync")
	}
	failing.Store(false)
	if _, err := j.Append(key(0), []byte("c")); err == nil {
		t.Fatal("append after a failed fsync succeeded")
	}
}

// Close may be called twice; the second does nothing.
func TestCloseTwice(t *testing.T) {
	j := start(t, vfs.NewMem(), Options{})
	appendSync(t, j, key(0), []byte("a"))
	done := make(chan error, 2)
	go func() { done <- j.Close(false); done <- j.Close(false) }()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a second Close hangs")
		}
	}
}

// Small syncs preallocate the file with zeros; a power loss leaves them
// after the records and the reading stops there; a full file is cut back
// to its records before the next is created, so a file before the last
// never ends in zeros.
func TestPreallocatedZerosEndTheLastFileOnly(t *testing.T) {
	m := vfs.NewMem()
	j := start(t, m, Options{FileBytes: 4000, SyncAll: func() error { return errors.New("keep the files") }})
	var all [][]byte
	for i := range 300 {
		b := batchOf(i)
		appendSync(t, j, key(0), b)
		all = append(all, b)
	}
	crashed := m.CrashClone()
	names, _, _ := listFiles(crashed, dir)
	if len(names) < 3 {
		t.Fatalf("%d files, want several", len(names))
	}
	for i, n := range names {
		f, _ := crashed.Open(path.Join(dir, n))
		size, _ := f.Size()
		data := make([]byte, size)
		f.ReadAt(data, 0)
		f.Close()
		endsInZeros := size > headerSize && bytes.Count(data[size-headerSize:], []byte{0}) == headerSize
		if last := i == len(names)-1; endsInZeros != last {
			t.Fatalf("file %s (last=%v) ends in zeros: %v", n, last, endsInZeros)
		}
	}
	wantBatches(t, recoverAll(t, crashed).For(key(0)), all...)
}
