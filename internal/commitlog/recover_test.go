package commitlog

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"sluice/internal/vfs"
)

func segPath(base int64, suffix string) string {
	return filepath.Join(testDir, fileName(base, suffix))
}

func fileBytes(t *testing.T, fsys vfs.FS, name string) []byte {
	t.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, _ := f.Size()
	b := make([]byte, size)
	if err := readFull(f, b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRestartKeepsEverything(t *testing.T) {
	m := vfs.NewMem()
	cfg := Config{SegmentBytes: 5 * testBatchSize, IndexIntervalBytes: 200}
	l := openLog(t, m, cfg)
	batches := appendN(t, l, 23, t0)
	segs := l.Segments()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var buf logBuffer
	cfg.Logger = newLogger(&buf)
	l = openLog(t, m, cfg)
	defer l.Close()
	if l.NextOffset() != 69 || l.StartOffset() != 0 || l.Segments() != segs || l.SyncedOffset() != 69 {
		t.Fatalf("after restart next %d start %d segments %d synced %d", l.NextOffset(), l.StartOffset(), l.Segments(), l.SyncedOffset())
	}
	if got := readAll(t, l, 0); !bytes.Equal(got, concat(batches)) {
		t.Fatal("read back differs after restart")
	}
	if strings.Contains(buf.String(), "level=WARN") || strings.Contains(buf.String(), "rebuilding") {
		t.Fatalf("clean restart logged:\n%s", buf.String())
	}
	// Appending continues where it stopped.
	more := appendN(t, l, 3, t0)
	if got := readAll(t, l, 66); !bytes.Equal(got, concat(append(batches[22:], more...))) {
		t.Fatal("append after restart")
	}
}

func TestCrashKeepsSyncedBatches(t *testing.T) {
	for _, unsynced := range []int{0, 1, 4, 12} {
		t.Run(fmt.Sprint(unsynced), func(t *testing.T) {
			m := vfs.NewMem()
			cfg := Config{SegmentBytes: 5 * testBatchSize}
			l := openLog(t, m, cfg)
			batches := appendN(t, l, 13, t0)
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			if l.SyncedOffset() != 39 {
				t.Fatalf("SyncedOffset = %d", l.SyncedOffset())
			}
			// Unsynced appends; they may roll to a segment not yet durable.
			batches = append(batches, appendN(t, l, unsynced, t0)...)
			crashed := m.CrashClone()

			l2 := openLog(t, crashed, cfg)
			defer l2.Close()
			// MemFS drops every unsynced byte, so exactly the synced batches
			// remain, plus those a roll synced: filling the third segment (to
			// offset 45) and rolling fsyncs it.
			want := int64(39)
			if unsynced >= 3 {
				want = 45
			}
			if l2.NextOffset() != want {
				t.Fatalf("NextOffset after crash = %d, want %d", l2.NextOffset(), want)
			}
			if got := readAll(t, l2, 0); !bytes.Equal(got, concat(batches)[:want/3*testBatchSize]) {
				t.Fatal("synced batches differ after crash")
			}
			appendN(t, l2, 2, t0)
			checkWhole(t, readAll(t, l2, 0), 0, want+6)
		})
	}
}

func TestTornTailIsTruncatedAndLogged(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, f vfs.File, size int64)
		reason string
	}{
		{"cut", func(t *testing.T, f vfs.File, size int64) { f.Truncate(size - 10) }, "runs past"},
		{"short", func(t *testing.T, f vfs.File, size int64) { f.Truncate(size - testBatchSize + 20) }, "fewer bytes"},
		{"garble", func(t *testing.T, f vfs.File, size int64) { f.WriteAt([]byte{0xde, 0xad}, size-5) }, "CRC"},
		{"garbage-appended", func(t *testing.T, f vfs.File, size int64) {
			f.WriteAt(bytes.Repeat([]byte{0x55}, testBatchSize), size)
		}, "batch length"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := vfs.NewMem()
			cfg := Config{SegmentBytes: 4 * testBatchSize}
			l := openLog(t, m, cfg)
			batches := appendN(t, l, 10, t0)
			l.Close()
			f, err := m.Open(segPath(24, logSuffix))
			if err != nil {
				t.Fatal(err)
			}
			size, _ := f.Size()
			c.damage(t, f, size)
			f.Sync()
			f.Close()

			var buf logBuffer
			cfg.Logger = newLogger(&buf)
			l = openLog(t, m, cfg)
			defer l.Close()
			wantNext, wantPos, wantSize := int64(27), int64(testBatchSize), int64(9*testBatchSize)
			if c.name == "garbage-appended" {
				wantNext, wantPos, wantSize = 30, 2*testBatchSize, 10*testBatchSize
			}
			if l.NextOffset() != wantNext || l.Size() != wantSize {
				t.Fatalf("after recovery next %d size %d, want %d %d", l.NextOffset(), l.Size(), wantNext, wantSize)
			}
			if got := readAll(t, l, 0); !bytes.Equal(got, concat(batches[:wantNext/3])) {
				t.Fatal("surviving batches differ")
			}
			if s, _, _ := m.Stat(segPath(24, logSuffix)); s != wantPos {
				t.Fatalf("segment file size %d, want %d", s, wantPos)
			}
			out := buf.String()
			line := fmt.Sprintf(`level=WARN msg="commitlog: truncated torn tail" dir=%s segment=00000000000000000024.log offset=%d position=%d droppedBytes=`,
				testDir, wantNext, wantPos)
			if !strings.Contains(out, line) || !strings.Contains(out, c.reason) {
				t.Fatalf("log output:\n%s\nwant line containing:\n%s ... %s", out, line, c.reason)
			}
			// The cut is durable: a crash now recovers the same log silently.
			appendN(t, l, 1, t0)
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			l3 := openLog(t, m.CrashClone(), Config{SegmentBytes: 4 * testBatchSize})
			checkWhole(t, readAll(t, l3, 0), 0, wantNext+3)
		})
	}
}

func TestWrongBaseOffsetInTailIsCut(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{})
	batches := appendN(t, l, 3, t0)
	l.Close()
	f, _ := m.Open(segPath(0, logSuffix))
	f.Write(makeBatch(100, 1, 5, 0)) // valid batch, wrong offset
	f.Sync()
	f.Close()
	var buf logBuffer
	l = openLog(t, m, Config{Logger: newLogger(&buf)})
	if l.NextOffset() != 9 || !bytes.Equal(readAll(t, l, 0), concat(batches)) {
		t.Fatalf("NextOffset %d", l.NextOffset())
	}
	if !strings.Contains(buf.String(), "base offset 100, want 9") {
		t.Fatalf("log: %s", buf.String())
	}
}

func TestIndexFilesRebuilt(t *testing.T) {
	m := vfs.NewMem()
	cfg := Config{SegmentBytes: 20 * testBatchSize, IndexIntervalBytes: 3 * testBatchSize}
	l := openLog(t, m, cfg)
	batches := appendN(t, l, 50, t0)
	l.Close()
	origIdx := fileBytes(t, m, segPath(0, indexSuffix))
	origTime := fileBytes(t, m, segPath(60, timeIndexSuffix))
	if len(origIdx) != 6*offsetEntrySize || len(origTime) != 20*timeEntrySize {
		t.Fatalf("index sizes %d %d", len(origIdx), len(origTime))
	}

	m.Remove(segPath(0, indexSuffix))
	m.Remove(segPath(0, timeIndexSuffix))
	f, _ := m.Create(segPath(60, indexSuffix)) // not a multiple of 8
	f.Write([]byte{1, 2, 3})
	f.Close()
	f, _ = m.Create(segPath(60, timeIndexSuffix)) // decreasing entries
	f.Write(timeIndex(nil).append(5000, 0).append(10, 3))
	f.Close()

	var buf logBuffer
	cfg.Logger = newLogger(&buf)
	l = openLog(t, m, cfg)
	defer l.Close()
	if got := strings.Count(buf.String(), "commitlog: rebuilding index"); got != 2 {
		t.Fatalf("rebuilt %d indexes, want 2:\n%s", got, buf.String())
	}
	if !bytes.Equal(fileBytes(t, m, segPath(0, indexSuffix)), origIdx) {
		t.Fatal("rebuilt offset index differs")
	}
	if !bytes.Equal(fileBytes(t, m, segPath(60, timeIndexSuffix)), origTime) {
		t.Fatal("rebuilt time index differs")
	}
	for off := int64(0); off < 150; off += 7 {
		got, err := l.Read(off, 150, 1, nil)
		if err != nil || !bytes.Equal(got, batches[off/3]) {
			t.Fatalf("Read(%d) after rebuild: %v", off, err)
		}
	}
	if b, _ := l.ReadBatchAtTimestamp(30500, 0, 150); !bytes.Equal(b, batches[30]) {
		t.Fatal("time lookup after rebuild")
	}
}

func TestOddFilesAreHandled(t *testing.T) {
	m := vfs.NewMem()
	cfg := Config{SegmentBytes: 2 * testBatchSize}
	l := openLog(t, m, cfg)
	batches := appendN(t, l, 4, t0)
	l.Close()
	// An empty segment before the last, an unparsable name, an orphan
	// index and an interrupted index write.
	for _, name := range []string{
		segPath(3, logSuffix), filepath.Join(testDir, "junk.log"),
		segPath(99, indexSuffix), segPath(0, indexSuffix) + tmpSuffix,
	} {
		f, _ := m.Create(name)
		f.Close()
	}
	var buf logBuffer
	cfg.Logger = newLogger(&buf)
	l = openLog(t, m, cfg)
	defer l.Close()
	if l.Segments() != 2 || l.NextOffset() != 12 || !bytes.Equal(readAll(t, l, 0), concat(batches)) {
		t.Fatalf("segments %d next %d", l.Segments(), l.NextOffset())
	}
	out := buf.String()
	for _, want := range []string{
		"removing empty segment", "segment=00000000000000000003.log",
		"unparsable name", "file=junk.log",
		"file=00000000000000000099.index", "file=00000000000000000000.index.tmp",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	names, _ := m.ReadDir(testDir)
	if !equalStrings(names, []string{
		"00000000000000000000.index", "00000000000000000000.log", "00000000000000000000.timeindex",
		"00000000000000000006.index", "00000000000000000006.log", "00000000000000000006.timeindex",
		"junk.log", "leader-epoch.checkpoint",
	}) {
		t.Fatalf("files: %v", names)
	}
}
