package commitlog

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// epochBatch is appendN's batch at base, stamped with a leader epoch.
func epochBatch(base int64, epoch int32) []byte {
	b := makeBatch(base, 3, 1000*(base/3+1), testBatchSize-recordbatch.HeaderSize)
	recordbatch.Batch(b).SetLeaderEpoch(epoch) // outside the CRC
	return b
}

// appendEpoch appends n three-record batches stamped with epoch.
func appendEpoch(t testing.TB, l *Log, n int, epoch int32) {
	t.Helper()
	for range n {
		if err := l.Append(epochBatch(l.NextOffset(), epoch), t0); err != nil {
			t.Fatalf("append at %d: %v", l.NextOffset(), err)
		}
	}
}

func syncLog(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
}

func begin(t testing.TB, l *Log, epoch int32) {
	t.Helper()
	if err := l.BeginEpoch(epoch); err != nil {
		t.Fatalf("BeginEpoch(%d): %v", epoch, err)
	}
}

func checkEpochs(t testing.TB, l *Log, wantHighest int32, want ...EpochEntry) {
	t.Helper()
	highest, got := l.Epochs()
	if want == nil {
		want = []EpochEntry{}
	}
	if got == nil {
		got = []EpochEntry{}
	}
	if highest != wantHighest || !reflect.DeepEqual(got, want) {
		t.Fatalf("epochs: highest %d %v, want highest %d %v", highest, got, wantHighest, want)
	}
}

func checkEndOffset(t testing.TB, l *Log, epoch, wantEpoch int32, wantEnd int64) {
	t.Helper()
	if e, end := l.EpochEndOffset(epoch); e != wantEpoch || end != wantEnd {
		t.Fatalf("EpochEndOffset(%d) = (%d, %d), want (%d, %d)", epoch, e, end, wantEpoch, wantEnd)
	}
}

// A begun epoch is durable when BeginEpoch returns, epochs only grow, and
// an epoch that wrote nothing leaves no entry but stays spent.
func TestBeginEpoch(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{})
	begin(t, l, 0)
	appendEpoch(t, l, 2, 0)
	syncLog(t, l)
	begin(t, l, 1) // writes nothing
	if err := l.BeginEpoch(1); !errors.Is(err, ErrStaleEpoch) {
		t.Fatalf("BeginEpoch(1) again: %v", err)
	}
	begin(t, l, 2)
	checkEpochs(t, l, 2, EpochEntry{0, 0}, EpochEntry{2, 6})
	appendEpoch(t, l, 1, 2)
	syncLog(t, l)
	checkEndOffset(t, l, 0, 0, 6)
	checkEndOffset(t, l, 1, 0, 6)
	checkEndOffset(t, l, 2, 2, 9)
	checkEndOffset(t, l, 3, NoEpoch, NoOffset)

	l2 := openLog(t, m.CrashClone(), Config{})
	defer l2.Close()
	checkEpochs(t, l2, 2, EpochEntry{0, 0}, EpochEntry{2, 6})
	if err := l2.BeginEpoch(2); !errors.Is(err, ErrStaleEpoch) {
		t.Fatalf("BeginEpoch(2) after the crash: %v", err)
	}
	l.Close()
}

// A log that no leader began (a follower's, later) records the epochs its
// batches carry, durably before each new epoch's first batch.
func TestAppendNotesNewEpochs(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{})
	defer l.Close()
	appendEpoch(t, l, 2, 0)
	appendEpoch(t, l, 1, 5)
	appendEpoch(t, l, 1, 5)
	checkEpochs(t, l, 5, EpochEntry{0, 0}, EpochEntry{5, 6})
	// The batches were never synced: a crash takes them and with them the
	// entries, but not the highest epoch.
	l2 := openLog(t, m.CrashClone(), Config{})
	defer l2.Close()
	checkEpochs(t, l2, 5)
}

// Recovery cuts a torn tail: the entries of epochs that began in it go,
// the checkpoint is rewritten, the highest epoch stays.
func TestRecoveryCutDropsEpochEntries(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{})
	begin(t, l, 1)
	appendEpoch(t, l, 2, 1)
	syncLog(t, l)
	appendEpoch(t, l, 1, 1) // [6, 9), never synced
	begin(t, l, 2)
	appendEpoch(t, l, 2, 2) // never synced
	checkEpochs(t, l, 2, EpochEntry{1, 0}, EpochEntry{2, 9})
	crashed := m.CrashClone()
	l.Close()

	var buf logBuffer
	l2 := openLog(t, crashed, Config{Logger: newLogger(&buf)})
	checkEpochs(t, l2, 2, EpochEntry{1, 0})
	checkEndOffset(t, l2, 1, 1, 6)
	checkEndOffset(t, l2, 2, NoEpoch, NoOffset)
	if !strings.Contains(buf.String(), "dropped leader-epoch entries of batches recovery cut") {
		t.Fatalf("the cut was not logged:\n%s", buf.String())
	}
	l2.Close()
	highest, entries, err := openLogFile(t, crashed)
	if err != nil || highest != 2 || !reflect.DeepEqual(entries, []EpochEntry{{1, 0}}) {
		t.Fatalf("checkpoint after recovery: %d %v %v", highest, entries, err)
	}
}

func openLogFile(t testing.TB, fsys vfs.FS) (int32, []EpochEntry, error) {
	t.Helper()
	l := &Log{fsys: fsys, dir: testDir}
	return l.readEpochCheckpoint()
}

// Retention folds the entries below the new start into the epoch of the
// first batch left; a checkpoint written before the deletion is folded
// the same way at open.
func TestRetentionFoldsEpochs(t *testing.T) {
	m := vfs.NewMem()
	cfg := Config{SegmentBytes: 3 * testBatchSize, RetentionAge: -1}
	l := openLog(t, m, cfg)
	begin(t, l, 0)
	appendEpoch(t, l, 2, 0) // [0, 6)
	begin(t, l, 1)
	appendEpoch(t, l, 3, 1) // [6, 15)
	begin(t, l, 4)
	appendEpoch(t, l, 2, 4) // [15, 21)
	syncLog(t, l)
	cfg.RetentionBytes = 4 * testBatchSize
	l.SetConfig(cfg)
	if n, err := l.EnforceRetention(t0); err != nil || n != 1 || l.StartOffset() != 9 {
		t.Fatalf("retention: %d %v, start %d", n, err, l.StartOffset())
	}
	checkEpochs(t, l, 4, EpochEntry{1, 9}, EpochEntry{4, 15})
	checkEndOffset(t, l, 0, 0, 9) // older than anything left: the first start
	checkEndOffset(t, l, 1, 1, 15)
	if ep, ok := l.EpochForOffset(9); !ok || ep != 1 {
		t.Fatalf("EpochForOffset(9) = %d %v", ep, ok)
	}
	l.Close()
	if _, entries, _ := openLogFile(t, m); len(entries) != 3 {
		t.Fatalf("retention rewrote the checkpoint: %v", entries)
	}
	l2 := openLog(t, m, cfg)
	defer l2.Close()
	checkEpochs(t, l2, 4, EpochEntry{1, 9}, EpochEntry{4, 15})
}

// TruncateTo drops the entries of the epochs it cuts, durably.
func TestTruncateToCutsEpochs(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{SegmentBytes: 3 * testBatchSize})
	appendEpoch(t, l, 2, 0)
	appendEpoch(t, l, 2, 3) // [6, 12)
	appendEpoch(t, l, 2, 7) // [12, 18)
	syncLog(t, l)
	if err := l.TruncateTo(9); err != nil {
		t.Fatal(err)
	}
	checkEpochs(t, l, 7, EpochEntry{0, 0}, EpochEntry{3, 6})
	checkEndOffset(t, l, 3, 3, 9)
	l2 := openLog(t, m.CrashClone(), Config{SegmentBytes: 3 * testBatchSize})
	defer l2.Close()
	checkEpochs(t, l2, 7, EpochEntry{0, 0}, EpochEntry{3, 6})
	l.Close()
}

// Without a checkpoint (a data dir from before it existed) the entries are
// rebuilt from the epochs stamped in the batches, walking only the
// segments where the epoch changes.
func TestMissingCheckpointRebuiltFromLog(t *testing.T) {
	m := vfs.NewMem()
	cfg := Config{SegmentBytes: 3 * testBatchSize}
	l := openLog(t, m, cfg)
	appendEpoch(t, l, 4, 0) // segments at 0 and 9 (epoch 0), then 12...
	appendEpoch(t, l, 1, 2) // 12: still in the segment at 9
	appendEpoch(t, l, 3, 2) // [15, 24)
	appendEpoch(t, l, 2, 6) // [24, 30): the segment at 27 begins with epoch 6
	want := []EpochEntry{{0, 0}, {2, 12}, {6, 24}}
	checkEpochs(t, l, 6, want...)
	l.Close()
	if err := m.Remove(testDir + "/" + epochCheckpointFile); err != nil {
		t.Fatal(err)
	}
	var buf logBuffer
	cfg.Logger = newLogger(&buf)
	l2 := openLog(t, m, cfg)
	checkEpochs(t, l2, 6, want...)
	if !strings.Contains(buf.String(), "no leader-epoch checkpoint; rebuilding it from the log") {
		t.Fatalf("the rebuild was not logged:\n%s", buf.String())
	}
	l2.Close()
	if _, entries, err := openLogFile(t, m); err != nil || !reflect.DeepEqual(entries, want) {
		t.Fatalf("rebuilt checkpoint not written: %v %v", entries, err)
	}
}

// A damaged checkpoint is rebuilt from the log, with a warning.
func TestDamagedCheckpointRebuilt(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{})
	begin(t, l, 3)
	appendEpoch(t, l, 2, 3)
	l.Close()
	f, err := m.Open(testDir + "/" + epochCheckpointFile)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xff}, 7)
	f.Sync()
	f.Close()
	var buf logBuffer
	l2 := openLog(t, m, Config{Logger: newLogger(&buf)})
	defer l2.Close()
	checkEpochs(t, l2, 3, EpochEntry{3, 0})
	if !strings.Contains(buf.String(), "leader-epoch checkpoint unreadable") {
		t.Fatalf("the damage was not logged:\n%s", buf.String())
	}
}

// epochsOfBatches derives the entries from the batches the log holds, the
// first folded to the log start: what the cache must equal after any
// crash.
func epochsOfBatches(t testing.TB, l *Log) []EpochEntry {
	t.Helper()
	out := []EpochEntry{}
	for buf := readAll(t, l, l.StartOffset()); len(buf) > 0; {
		b, err := frame(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(out); n == 0 || b.LeaderEpoch() > out[n-1].Epoch {
			out = append(out, EpochEntry{b.LeaderEpoch(), b.BaseOffset()})
		}
		buf = buf[len(b):]
	}
	if len(out) > 0 {
		out[0].StartOffset = l.StartOffset()
	}
	return out
}

// A power loss before any file-system operation of begins, appends,
// syncs, rolls, a truncation and retention: every crash state opens, its
// entries are exactly the epochs of the batches it kept, and every epoch
// whose BeginEpoch had returned is still spent.
func TestEpochCheckpointCrashAtEveryStep(t *testing.T) {
	mem := vfs.NewMem()
	fsys := newRecordingFS(mem)
	cfg := Config{SegmentBytes: 3 * testBatchSize, RetentionAge: -1}
	l := openLog(t, fsys, cfg)
	type ack struct {
		snaps int
		epoch int32
	}
	var acks []ack
	beginAcked := func(e int32) {
		begin(t, l, e)
		acks = append(acks, ack{len(fsys.snaps), e})
	}
	fsys.record(true)
	beginAcked(0)
	appendEpoch(t, l, 4, 0)
	syncLog(t, l)
	beginAcked(1)
	beginAcked(2)
	appendEpoch(t, l, 3, 2)
	syncLog(t, l)
	appendEpoch(t, l, 2, 2) // unsynced
	if err := l.TruncateTo(18); err != nil {
		t.Fatal(err)
	}
	beginAcked(3)
	appendEpoch(t, l, 2, 3)
	syncLog(t, l)
	cfg.RetentionBytes = 4 * testBatchSize
	l.SetConfig(cfg)
	if _, err := l.EnforceRetention(t0); err != nil {
		t.Fatal(err)
	}
	beginAcked(5)
	appendEpoch(t, l, 1, 5) // unsynced
	fsys.record(false)
	l.Close()
	fsys.snaps = append(fsys.snaps, mem.CrashClone())
	fsys.steps = append(fsys.steps, "after the last step")

	for i, snap := range fsys.snaps {
		where := fmt.Sprintf("crash before step %d (%s)", i, fsys.steps[i])
		rl, err := Open(snap, testDir, cfg)
		if err != nil {
			t.Fatalf("%s: open: %v", where, err)
		}
		highest, got := rl.Epochs()
		if want := epochsOfBatches(t, rl); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("%s: entries %v, the batches say %v", where, got, want)
		}
		for _, a := range acks {
			if a.snaps <= i && highest < a.epoch {
				t.Fatalf("%s: highest epoch %d, but BeginEpoch(%d) had returned", where, highest, a.epoch)
			}
		}
		rl.Close()
	}
	t.Logf("%d crash points checked", len(fsys.snaps))
}
