package commitlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"testing"

	"sluice/internal/vfs"
)

// Two batches per segment, retention only by the log start.
var startCfg = Config{SegmentBytes: 2 * testBatchSize, RetentionAge: -1}

const startFile = testDir + "/" + logStartCheckpointFile

func TestAdvanceStart(t *testing.T) {
	mem := vfs.NewMem()
	l := openLog(t, mem, startCfg)
	batches := appendN(t, l, 9, t0) // batch i holds [3i, 3i+3); segments at 0, 6, 12, 18, 24
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	// Inside batch 4 ([12, 15)), in the segment at 12: the two segments
	// before it go, the batch stays and is served whole from 14.
	if got, err := l.AdvanceStart(14); err != nil || got != 14 {
		t.Fatalf("AdvanceStart(14) = %d, %v", got, err)
	}
	if l.StartOffset() != 14 || !slices.Equal(segmentBases(l), []int64{12, 18, 24, 27}) {
		t.Fatalf("start %d, segments %v", l.StartOffset(), segmentBases(l))
	}
	if _, err := l.Read(13, 27, 1<<20, nil); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read(13) below the start: %v", err)
	}
	if got := readAll(t, l, 14); !bytes.Equal(got, concat(batches[4:])) {
		t.Fatal("Read(14) is not batches 4 to 8")
	}
	// Lower offsets change nothing; past the end is refused.
	for _, off := range []int64{0, 12, 14} {
		if got, err := l.AdvanceStart(off); err != nil || got != 14 {
			t.Fatalf("AdvanceStart(%d) = %d, %v; want 14", off, got, err)
		}
	}
	if got, err := l.AdvanceStart(28); !errors.Is(err, ErrOffsetOutOfRange) || got != 14 {
		t.Fatalf("AdvanceStart(28) past the end = %d, %v", got, err)
	}
	// Durable as soon as it returned: a power loss keeps it, as does a restart.
	if c := openLog(t, mem.CrashClone(), startCfg); c.StartOffset() != 14 {
		t.Fatalf("after a power loss the start is %d", c.StartOffset())
	}
	l.Close()
	l = openLog(t, mem, startCfg)
	if l.StartOffset() != 14 || !bytes.Equal(readAll(t, l, 14), concat(batches[4:])) {
		t.Fatalf("after a restart the start is %d", l.StartOffset())
	}
	// Retention keeps the start where it is although the first segment
	// begins below it.
	if n, err := l.EnforceRetention(t0); n != 0 || err != nil || l.StartOffset() != 14 {
		t.Fatalf("retention: %d %v, start %d", n, err, l.StartOffset())
	}
	// The whole log: the active segment stays, empty of readable records.
	if got, err := l.AdvanceStart(27); err != nil || got != 27 || !slices.Equal(segmentBases(l), []int64{24, 27}) {
		t.Fatalf("AdvanceStart(27) = %d, %v; segments %v", got, err, segmentBases(l))
	}
	if got := readAll(t, l, 27); len(got) != 0 {
		t.Fatalf("Read at the end returned %d bytes", len(got))
	}
}

// A start once advanced outlives a stale checkpoint: retention by size
// moving further wins after a restart.
func TestLogStartBelowFirstSegmentIsStale(t *testing.T) {
	mem := vfs.NewMem()
	l := openLog(t, mem, startCfg)
	appendN(t, l, 9, t0)
	if _, err := l.AdvanceStart(4); err != nil {
		t.Fatal(err)
	}
	l.SetConfig(Config{SegmentBytes: 2 * testBatchSize, RetentionAge: -1, RetentionBytes: 2 * testBatchSize})
	if _, err := l.EnforceRetention(t0); err != nil || l.StartOffset() != 18 {
		t.Fatalf("retention by size: %v, start %d", err, l.StartOffset())
	}
	l.Close()
	if l = openLog(t, mem, startCfg); l.StartOffset() != 18 {
		t.Fatalf("after restart the start is %d, want the first segment's 18", l.StartOffset())
	}
}

// The log is synced up to the new start before the checkpoint names it,
// so a checkpoint never lies past the durable log end, whatever the
// fsync policy left unsynced.
func TestAdvanceStartSyncsTheLogFirst(t *testing.T) {
	mem := vfs.NewMem()
	l := openLog(t, mem, startCfg)
	appendN(t, l, 5, t0) // not synced
	if _, err := l.AdvanceStart(10); err != nil {
		t.Fatal(err)
	}
	c := openLog(t, mem.CrashClone(), startCfg)
	if c.StartOffset() != 10 || c.NextOffset() != 15 {
		t.Fatalf("after a power loss: start %d, end %d; want 10 and 15", c.StartOffset(), c.NextOffset())
	}
}

// A power loss before every file-system operation of AdvanceStart leaves
// the acknowledged start or the asked one, never one between or past
// them, and every record at or after it; retention then deletes exactly
// the segments wholly below it.
func TestAdvanceStartCrashAtEveryStep(t *testing.T) {
	mem := vfs.NewMem()
	fsys := newRecordingFS(mem)
	l := openLog(t, fsys, startCfg)
	batches := appendN(t, l, 6, t0)
	const acked, asked = 8, 20
	if _, err := l.AdvanceStart(acked); err != nil {
		t.Fatal(err)
	}
	batches = append(batches, appendN(t, l, 4, t0)...) // unsynced: AdvanceStart syncs them
	fsys.record(true)
	if _, err := l.AdvanceStart(asked); err != nil {
		t.Fatal(err)
	}
	fsys.record(false)
	l.Close()
	fsys.snaps = append(fsys.snaps, mem.CrashClone())
	fsys.steps = append(fsys.steps, "after the last step")

	seen := map[int64]int{}
	for i, snap := range fsys.snaps {
		step := fmt.Sprintf("crash before step %d (%s)", i, fsys.steps[i])
		rl, err := Open(snap, testDir, startCfg)
		if err != nil {
			t.Fatalf("%s: open: %v", step, err)
		}
		start := rl.StartOffset()
		seen[start]++
		if start != acked && start != asked {
			t.Fatalf("%s: start %d, want %d or %d", step, start, acked, asked)
		}
		first := start / 3 // the batch holding the start
		end := min(rl.NextOffset()/3, int64(len(batches)))
		if got := readAll(t, rl, start); !bytes.Equal(got, concat(batches[first:end])) {
			t.Fatalf("%s: records from %d differ", step, start)
		}
		if _, err := rl.EnforceRetention(t0); err != nil {
			t.Fatal(err)
		}
		if bases := segmentBases(rl); rl.StartOffset() != start || bases[0] > start || bases[1] <= start {
			t.Fatalf("%s: after retention start %d, segments %v", step, rl.StartOffset(), bases)
		}
		rl.Close()
	}
	if seen[acked] == 0 || seen[asked] == 0 || fsys.steps[len(fsys.steps)-1] != "after the last step" {
		t.Fatalf("starts seen %v: want both %d and %d", seen, acked, asked)
	}
	if last, _ := Open(fsys.snaps[len(fsys.snaps)-1], testDir, startCfg); last.StartOffset() != asked {
		t.Fatalf("after AdvanceStart returned the start is %d", last.StartOffset())
	}
	t.Logf("%d crash points checked: %v", len(fsys.snaps), seen)
}

// A checkpoint that does not decode, or that names an offset past the log
// end, is refused, and the directory is left as it was.
func TestLogStartCheckpointRefused(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, mem *vfs.MemFS, l *Log)
	}{
		{"bit flip", func(t *testing.T, mem *vfs.MemFS, _ *Log) {
			b := fileBytes(t, mem, startFile)
			b[3] ^= 1
			mustWrite(t, mem, startFile, b)
		}},
		{"cut short", func(t *testing.T, mem *vfs.MemFS, _ *Log) {
			mustWrite(t, mem, startFile, fileBytes(t, mem, startFile)[:7])
		}},
		{"past the log end", func(t *testing.T, mem *vfs.MemFS, l *Log) {
			if err := l.writeOffsetCheckpoint(logStartCheckpointFile, 28); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := vfs.NewMem()
			l := openLog(t, mem, startCfg)
			appendN(t, l, 9, t0)
			if _, err := l.AdvanceStart(7); err != nil {
				t.Fatal(err)
			}
			c.damage(t, mem, l)
			l.Close()
			before := treeBytes(t, mem)
			if _, err := Open(mem, testDir, startCfg); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open on a damaged log start checkpoint: %v", err)
			}
			if after := treeBytes(t, mem); !equalTrees(before, after) {
				t.Fatal("the refused open changed the directory")
			}
		})
	}
}

func treeBytes(t *testing.T, mem *vfs.MemFS) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	names, err := mem.ReadDir(testDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		out[n] = fileBytes(t, mem, testDir+"/"+n)
	}
	return out
}

func equalTrees(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// A lookup by time never answers below the log start: the batches the
// time index names are below it, so the batches after it are walked.
func TestTimestampLookupFromLogStart(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Config{SegmentBytes: 8 * testBatchSize})
	var batches [][]byte
	for i, ts := range []int64{9000, 1000, 1000, 9500, 2000} { // not monotonic
		b := makeBatch(int64(3*i), 3, ts, testBatchSize-40)
		if err := l.Append(b, t0); err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b)
	}
	if _, err := l.AdvanceStart(4); err != nil { // inside batch 1
		t.Fatal(err)
	}
	for _, c := range []struct {
		ts, from int64
		want     int // batch index, -1 none
	}{
		{8000, 0, 3},  // the index names batch 0, below the start
		{500, 0, 1},   // the batch holding the start
		{500, 6, 2},   // from past the start
		{9600, 0, -1}, // none
		{2000, 12, 4},
	} {
		got, err := l.ReadBatchAtTimestamp(c.ts, c.from, l.NextOffset())
		want := []byte(nil)
		if c.want >= 0 {
			want = batches[c.want]
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ReadBatchAtTimestamp(%d, from %d): %d bytes %v, want batch %d", c.ts, c.from, len(got), err, c.want)
		}
	}
	// Bounded by maxOffset: batch 3 ends at 12.
	if got, _ := l.ReadBatchAtTimestamp(8000, 0, 11); got != nil {
		t.Error("found a batch past maxOffset")
	}
}

// FuzzLogStartCheckpoint writes arbitrary bytes as the log start
// checkpoint of a log of offsets [0, 27): Open either refuses them as
// damage or starts the log within it, and reads from there.
func FuzzLogStartCheckpoint(f *testing.F) {
	valid := func(offset uint64) []byte {
		b := binary.BigEndian.AppendUint64(nil, offset)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	}
	f.Add(valid(14))
	f.Add(valid(28))
	f.Add(append(valid(14), 0))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := vfs.NewMem()
		l := openLog(t, mem, startCfg)
		appendN(t, l, 9, t0)
		l.Close()
		mustWrite(t, mem, startFile, data)
		l, err := Open(mem, testDir, startCfg)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("refused with %v, want ErrCorrupt", err)
			}
			return
		}
		defer l.Close()
		start := l.StartOffset()
		if start < 0 || start > l.NextOffset() {
			t.Fatalf("start %d outside [0, %d]", start, l.NextOffset())
		}
		checkWhole(t, readAll(t, l, start), start/3*3, l.NextOffset())
	})
}
