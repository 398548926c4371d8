package commitlog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// kv is one record of a test batch; a nil value is a tombstone.
type kv struct{ key, value string }

func tomb(key string) kv { return kv{key: key, value: "\x00nil"} }

// rec is a record read back from the log.
type rec struct {
	offset     int64
	key, value string
	tombstone  bool
}

// keyedBatch builds a batch of records with keys, all at timestamp ms,
// compressed with codec, from producer pid (-1: none) starting at sequence
// seq.
func keyedBatch(t testing.TB, records []kv, ms int64, codec recordbatch.Codec, pid int64, seq int32) []byte {
	t.Helper()
	var rs []recordbatch.Record
	for _, r := range records {
		v := []byte(r.value)
		if r.value == "\x00nil" {
			v = nil
		}
		rs = append(rs, recordbatch.Record{Key: []byte(r.key), Value: v})
	}
	b := recordbatch.Build(nil, rs, ms, 0)
	if codec != recordbatch.CodecNone {
		b = compressBatch(t, b, codec)
	}
	binary.BigEndian.PutUint64(b[43:], uint64(pid))
	binary.BigEndian.PutUint16(b[51:], 0)
	binary.BigEndian.PutUint32(b[53:], uint32(seq))
	binary.BigEndian.PutUint32(b[17:], recordbatch.Batch(b).ComputeCRC())
	return b
}

func compressBatch(t testing.TB, b []byte, codec recordbatch.Codec) []byte {
	t.Helper()
	var cc kgo.CompressionCodec
	switch codec {
	case recordbatch.CodecGzip:
		cc = kgo.GzipCompression()
	case recordbatch.CodecSnappy:
		cc = kgo.SnappyCompression()
	case recordbatch.CodecLZ4:
		cc = kgo.Lz4Compression()
	case recordbatch.CodecZstd:
		cc = kgo.ZstdCompression()
	}
	c, err := kgo.DefaultCompressor(cc)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	body, used := c.Compress(&buf, b[recordbatch.HeaderSize:])
	if recordbatch.Codec(used) != codec {
		t.Fatalf("compressed with %d, want %d", used, codec)
	}
	out := append(append([]byte(nil), b[:recordbatch.HeaderSize]...), body...)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-recordbatch.LengthPrefix))
	binary.BigEndian.PutUint16(out[21:], uint16(codec))
	return out
}

// appendKeyed appends a batch at the log end and returns its base offset.
func appendKeyed(t testing.TB, l *Log, b []byte, now time.Time) int64 {
	t.Helper()
	base := l.NextOffset()
	recordbatch.Batch(b).SetBaseOffset(base)
	if err := l.Append(b, now); err != nil {
		t.Fatalf("append at %d: %v", base, err)
	}
	return base
}

// readRecords reads every record of the log, checking each batch's CRC.
func readRecords(t testing.TB, l *Log) []rec {
	t.Helper()
	var out []rec
	buf := readAll(t, l, l.StartOffset())
	for len(buf) > 0 {
		b, err := recordbatch.Frame(buf)
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		err = b.EachRecord(func(offset int64, key, value []byte) bool {
			out = append(out, rec{offset, string(key), string(value), value == nil})
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		buf = buf[len(b):]
	}
	return out
}

func cleanParams(now time.Time, l *Log) CleanParams {
	return CleanParams{Now: now, MaxOffset: l.NextOffset(), DeleteRetention: time.Hour, MinDirtyRatio: 0.5}
}

// smallSegments makes segments of about four 3-record batches.
var smallSegments = Config{SegmentBytes: 4 * 110}

// writeRounds writes rounds × keys records (3 per batch), value "r<round>",
// and rolls so that everything is below the active segment.
func writeRounds(t testing.TB, l *Log, keys, rounds int, codec recordbatch.Codec) map[string]rec {
	t.Helper()
	latest := map[string]rec{}
	var pending []kv
	flush := func() {
		base := appendKeyed(t, l, keyedBatch(t, pending, t0.UnixMilli(), codec, -1, 0), t0)
		for i, r := range pending {
			latest[r.key] = rec{offset: base + int64(i), key: r.key, value: r.value}
		}
		pending = nil
	}
	for r := range rounds {
		for k := range keys {
			pending = append(pending, kv{fmt.Sprintf("k%03d", k), fmt.Sprintf("r%d", r)})
			if len(pending) == 3 {
				flush()
			}
		}
	}
	if len(pending) > 0 {
		flush()
	}
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	return latest
}

func wantLatest(t testing.TB, got []rec, latest map[string]rec) {
	t.Helper()
	var want []rec
	for _, r := range latest {
		if !r.tombstone {
			want = append(want, r)
		}
	}
	slices.SortFunc(want, func(a, b rec) int { return int(a.offset - b.offset) })
	if !slices.Equal(got, want) {
		t.Fatalf("after cleaning: %d records\n%v\nwant %d\n%v", len(got), got, len(want), want)
	}
}

func TestCleanKeepsLatestValuePerKey(t *testing.T) {
	for _, codec := range []recordbatch.Codec{recordbatch.CodecNone, recordbatch.CodecGzip,
		recordbatch.CodecSnappy, recordbatch.CodecLZ4, recordbatch.CodecZstd} {
		t.Run(fmt.Sprint(codec), func(t *testing.T) {
			l := openLog(t, vfs.NewMem(), smallSegments)
			defer l.Close()
			latest := writeRounds(t, l, 10, 5, codec)
			next, before := l.NextOffset(), l.Segments()
			res, err := l.Clean(cleanParams(t0, l))
			if err != nil {
				t.Fatal(err)
			}
			if res.RecordsDropped != 40 || l.Segments() > before || l.NextOffset() != next || l.StartOffset() != 0 {
				t.Fatalf("dropped %d (want 40), segments %d -> %d, next %d -> %d, start %d",
					res.RecordsDropped, before, l.Segments(), next, l.NextOffset(), l.StartOffset())
			}
			wantLatest(t, readRecords(t, l), latest)
			checkCodecs(t, l, codec)
			if l.CleanedTo() != next {
				t.Fatalf("cleaned to %d, want %d", l.CleanedTo(), next)
			}
			// A second cleaning finds nothing dirty.
			if res, err := l.Clean(cleanParams(t0, l)); err != nil || res.DirtyBytes != 0 || res.Groups != 0 {
				t.Fatalf("second clean: %+v %v", res, err)
			}
		})
	}
}

// checkCodecs asserts every non-empty batch still uses codec.
func checkCodecs(t testing.TB, l *Log, codec recordbatch.Codec) {
	t.Helper()
	buf := readAll(t, l, l.StartOffset())
	for len(buf) > 0 {
		b, _ := recordbatch.Frame(buf)
		if b.RecordCount() > 0 && b.Codec() != codec {
			t.Fatalf("batch at %d has codec %d, want %d", b.BaseOffset(), b.Codec(), codec)
		}
		buf = buf[len(b):]
	}
}

func TestCleanSurvivesReopen(t *testing.T) {
	fsys := vfs.NewMem()
	l := openLog(t, fsys, smallSegments)
	latest := writeRounds(t, l, 10, 5, recordbatch.CodecNone)
	if _, err := l.Clean(cleanParams(t0, l)); err != nil {
		t.Fatal(err)
	}
	cleanedTo := l.CleanedTo()
	l.Close()
	l = openLog(t, fsys.CrashClone(), smallSegments)
	defer l.Close()
	wantLatest(t, readRecords(t, l), latest)
	if l.CleanedTo() != cleanedTo {
		t.Fatalf("checkpoint %d after reopen, want %d", l.CleanedTo(), cleanedTo)
	}
}

func TestCleanKeepsLastBatchOfIdempotentProducer(t *testing.T) {
	l := openLog(t, vfs.NewMem(), smallSegments)
	defer l.Close()
	appendKeyed(t, l, keyedBatch(t, []kv{{"a", "1"}, {"b", "1"}}, t0.UnixMilli(), 0, 7, 0), t0)
	last := appendKeyed(t, l, keyedBatch(t, []kv{{"a", "2"}}, t0.UnixMilli(), 0, 7, 2), t0)
	appendKeyed(t, l, keyedBatch(t, []kv{{"a", "3"}, {"b", "3"}}, t0.UnixMilli(), 0, -1, 0), t0)
	l.Roll()
	p := cleanParams(t0, l)
	p.IsLastOfProducer = func(pid, lastOffset int64) bool { return pid == 7 && lastOffset == last }
	if _, err := l.Clean(p); err != nil {
		t.Fatal(err)
	}
	var batches []recordbatch.Batch
	buf := readAll(t, l, 0)
	for len(buf) > 0 {
		b, _ := recordbatch.Frame(buf)
		batches = append(batches, b)
		buf = buf[len(b):]
	}
	// The first batch of producer 7 went; its last is an empty header that
	// keeps offset, producer id and sequence; the third batch is whole.
	if len(batches) != 2 {
		t.Fatalf("%d batches, want 2", len(batches))
	}
	h := batches[0]
	if h.BaseOffset() != last || h.RecordCount() != 0 || h.LastOffset() != last || h.ProducerID() != 7 || h.BaseSequence() != 2 {
		t.Fatalf("kept header: base %d count %d last %d pid %d seq %d", h.BaseOffset(), h.RecordCount(), h.LastOffset(), h.ProducerID(), h.BaseSequence())
	}
	if batches[1].RecordCount() != 2 {
		t.Fatalf("last batch has %d records, want 2", batches[1].RecordCount())
	}
}

func TestCleanTombstoneHorizon(t *testing.T) {
	l := openLog(t, vfs.NewMem(), smallSegments)
	defer l.Close()
	appendKeyed(t, l, keyedBatch(t, []kv{{"a", "1"}, {"b", "1"}}, t0.UnixMilli(), 0, -1, 0), t0)
	appendKeyed(t, l, keyedBatch(t, []kv{tomb("a"), {"c", "1"}}, t0.UnixMilli()+5, 0, -1, 0), t0)
	l.Roll()
	p := cleanParams(t0, l)
	p.DeleteRetention = time.Minute
	if _, err := l.Clean(p); err != nil {
		t.Fatal(err)
	}
	got := readRecords(t, l)
	want := []rec{{1, "b", "1", false}, {2, "a", "", true}, {3, "c", "1", false}}
	if !slices.Equal(got, want) {
		t.Fatalf("after first cleaning: %v, want %v", got, want)
	}
	// The tombstone's batch now carries its horizon; its records keep
	// their timestamps.
	b := lastBatch(t, l)
	h, ok := b.DeleteHorizon()
	if !ok || h != t0.Add(time.Minute).UnixMilli() {
		t.Fatalf("delete horizon %d %v, want %d", h, ok, t0.Add(time.Minute).UnixMilli())
	}
	var stamps []int64
	b.RecordTimestamps(func(_, ts int64) bool { stamps = append(stamps, ts); return true })
	if !slices.Equal(stamps, []int64{t0.UnixMilli() + 5, t0.UnixMilli() + 5}) {
		t.Fatalf("record timestamps %v", stamps)
	}
	if st := l.CleanStats(cleanParams(t0.Add(time.Minute), l)); !st.HorizonDue || !st.Due(0.5) {
		t.Fatalf("a tombstone reached its horizon, but the log is not due: %+v", st)
	}
	// Before the horizon a cleaning keeps it; after, it goes.
	appendKeyed(t, l, keyedBatch(t, []kv{{"d", "1"}}, t0.UnixMilli(), 0, -1, 0), t0)
	l.Roll()
	p = cleanParams(t0.Add(59*time.Second), l)
	if _, err := l.Clean(p); err != nil {
		t.Fatal(err)
	}
	if n := len(readRecords(t, l)); n != 4 {
		t.Fatalf("%d records before the horizon, want 4", n)
	}
	appendKeyed(t, l, keyedBatch(t, []kv{{"e", "1"}}, t0.UnixMilli(), 0, -1, 0), t0)
	l.Roll()
	p = cleanParams(t0.Add(time.Minute), l)
	if _, err := l.Clean(p); err != nil {
		t.Fatal(err)
	}
	got = readRecords(t, l)
	want = []rec{{1, "b", "1", false}, {3, "c", "1", false}, {4, "d", "1", false}, {5, "e", "1", false}}
	if !slices.Equal(got, want) {
		t.Fatalf("after the horizon: %v, want %v", got, want)
	}
}

func lastBatch(t testing.TB, l *Log) recordbatch.Batch {
	t.Helper()
	buf := readAll(t, l, 0)
	var b recordbatch.Batch
	for len(buf) > 0 {
		b, _ = recordbatch.Frame(buf)
		buf = buf[len(b):]
	}
	return b
}

func TestCleanRespectsMinCompactionLag(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Config{SegmentBytes: 1024})
	defer l.Close()
	old := t0.Add(-time.Hour)
	appendKeyed(t, l, keyedBatch(t, []kv{{"a", "1"}}, old.UnixMilli(), 0, -1, 0), t0)
	appendKeyed(t, l, keyedBatch(t, []kv{{"a", "2"}}, old.UnixMilli(), 0, -1, 0), t0)
	l.Roll()
	appendKeyed(t, l, keyedBatch(t, []kv{{"a", "3"}}, t0.UnixMilli(), 0, -1, 0), t0)
	l.Roll()
	p := cleanParams(t0, l)
	p.MinCompactionLag = 10 * time.Minute
	st := l.CleanStats(p)
	if st.End != 2 {
		t.Fatalf("first uncleanable offset %d, want 2 (the young segment)", st.End)
	}
	if _, err := l.Clean(p); err != nil {
		t.Fatal(err)
	}
	got := readRecords(t, l)
	want := []rec{{1, "a", "2", false}, {2, "a", "3", false}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCleanStatsDirtyRatioAndMaxLag(t *testing.T) {
	l := openLog(t, vfs.NewMem(), smallSegments)
	defer l.Close()
	writeRounds(t, l, 10, 2, 0)
	p := cleanParams(t0, l)
	st := l.CleanStats(p)
	if st.CleanBytes != 0 || st.DirtyBytes != l.Size() || st.DirtyRatio() != 1 || !st.Due(0.5) {
		t.Fatalf("fresh log: %+v ratio %v", st, st.DirtyRatio())
	}
	if _, err := l.Clean(p); err != nil {
		t.Fatal(err)
	}
	clean := l.Size()
	writeRounds(t, l, 1, 3, 0) // a little dirt
	st = l.CleanStats(cleanParams(t0, l))
	wantRatio := float64(st.DirtyBytes) / float64(clean+st.DirtyBytes)
	if st.CleanBytes != clean || st.DirtyRatio() != wantRatio || st.Due(0.5) {
		t.Fatalf("after cleaning: %+v ratio %v, want clean %d, ratio %v not due", st, st.DirtyRatio(), clean, wantRatio)
	}
	p = cleanParams(t0.Add(2*time.Hour), l)
	p.MaxCompactionLag = time.Hour
	if st := l.CleanStats(p); !st.MaxLagDue || !st.Due(0.5) {
		t.Fatalf("max compaction lag passed but not due: %+v", st)
	}
	// Nothing at or above the high watermark is cleanable.
	p.MaxOffset = 0
	if st := l.CleanStats(p); st.DirtyBytes != 0 || st.CleanBytes != 0 {
		t.Fatalf("with HW 0: %+v", st)
	}
}

// recordingFS snapshots the crashable file system before every operation
// of the inner FS, so a test can recover from a crash at every step.
type recordingFS struct {
	*vfs.ErrorFS
	mem   *vfs.MemFS
	mu    sync.Mutex
	on    bool
	steps []string
	snaps []*vfs.MemFS
}

func newRecordingFS(mem *vfs.MemFS) *recordingFS {
	r := &recordingFS{mem: mem}
	r.ErrorFS = vfs.NewErrorFS(mem, func(op, name string) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.on && op != vfs.OpRead {
			r.steps = append(r.steps, op+" "+name)
			r.snaps = append(r.snaps, mem.CrashClone())
		}
		return nil
	})
	return r
}

func (r *recordingFS) record(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = on
}

func TestCleanCrashAtEveryStep(t *testing.T) {
	mem := vfs.NewMem()
	fsys := newRecordingFS(mem)
	l := openLog(t, fsys, smallSegments)
	writeRounds(t, l, 6, 4, recordbatch.CodecNone)
	appendKeyed(t, l, keyedBatch(t, []kv{tomb("k000")}, t0.UnixMilli(), 0, -1, 0), t0)
	l.Roll()
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	oldSet := readRecords(t, l)
	fsys.record(true)
	res, err := l.Clean(cleanParams(t0, l))
	fsys.record(false)
	if err != nil || res.Groups < 2 {
		t.Fatalf("clean: %+v %v (want at least 2 groups)", res, err)
	}
	newSet := readRecords(t, l)
	boundaries := segmentBases(l)
	l.Close()
	fsys.snaps = append(fsys.snaps, mem.CrashClone())
	fsys.steps = append(fsys.steps, "after the last step")
	// Groups commit one at a time, so a crash yields for each group either
	// its old or its new segments: the records are the old set with some
	// prefix of the groups cleaned. Each group must be whole.
	seen := map[string]bool{}
	for i, snap := range fsys.snaps {
		rl, err := Open(snap, testDir, smallSegments)
		if err != nil {
			t.Fatalf("crash before step %d (%s): open: %v", i, fsys.steps[i], err)
		}
		got := readRecords(t, rl)
		if !isOldOrNewPerGroup(got, oldSet, newSet, boundaries) {
			t.Fatalf("crash before step %d (%s): recovered %d records, neither old (%d) nor new (%d) per group:\n%v",
				i, fsys.steps[i], len(got), len(oldSet), len(newSet), got)
		}
		seen[fmt.Sprint(len(got))] = true
		for _, f := range snap.Files() {
			if strings.HasSuffix(f, cleanedSuffix) || strings.HasSuffix(f, swapSuffix) {
				t.Fatalf("crash before step %d: %s left after recovery", i, f)
			}
		}
		rl.Close()
	}
	if !seen[fmt.Sprint(len(oldSet))] || !seen[fmt.Sprint(len(newSet))] {
		t.Fatalf("the crashes never recovered the old (%d) or the new (%d) set: %v", len(oldSet), len(newSet), seen)
	}
	t.Logf("%d crash points checked", len(fsys.snaps))
}

// isOldOrNewPerGroup reports whether got is the new set below one of the
// group boundaries and the old set from there on: what a crash between
// two groups' swaps leaves (groups commit in offset order).
func isOldOrNewPerGroup(got, oldSet, newSet []rec, boundaries []int64) bool {
	for _, b := range boundaries {
		var want []rec
		for _, r := range newSet {
			if r.offset < b {
				want = append(want, r)
			}
		}
		for _, r := range oldSet {
			if r.offset >= b {
				want = append(want, r)
			}
		}
		if slices.Equal(got, want) {
			return true
		}
	}
	return false
}

// segmentBases lists the bases of the log's segments and its end offset.
func segmentBases(l *Log) []int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []int64
	for _, s := range l.segs {
		out = append(out, s.base)
	}
	return append(out, l.NextOffset())
}

func TestRecoveryRemovesCleanedAndCompletesSwap(t *testing.T) {
	mem := vfs.NewMem()
	l := openLog(t, mem, smallSegments)
	writeRounds(t, l, 6, 4, recordbatch.CodecNone)
	old := readRecords(t, l)
	bases := segmentBases(l)
	l.Close()
	// A .cleaned file (uncommitted) is deleted and changes nothing.
	f, _ := mem.Create(l.swapPath(0, bases[1], cleanedSuffix))
	f.Write([]byte("half-written"))
	f.Close()
	mem.SyncDir(testDir)
	l = openLog(t, mem, smallSegments)
	if got := readRecords(t, l); !slices.Equal(got, old) {
		t.Fatalf("after a .cleaned leftover: %v", got)
	}
	// A .swap file replaces the segments in its range, and only them: here
	// the first two segments' records become one batch of key k000.
	replacement := keyedBatch(t, []kv{{"k000", "swapped"}}, t0.UnixMilli(), 0, -1, 0)
	recordbatch.Batch(replacement).SetBaseOffset(bases[1] - 1)
	l.Close()
	f, _ = mem.Create(l.swapPath(0, bases[2], swapSuffix))
	f.Write(replacement)
	f.Sync()
	f.Close()
	mem.SyncDir(testDir)
	l = openLog(t, mem.CrashClone(), smallSegments)
	defer l.Close()
	want := []rec{{bases[1] - 1, "k000", "swapped", false}}
	for _, r := range old {
		if r.offset >= bases[2] {
			want = append(want, r)
		}
	}
	if got := readRecords(t, l); !slices.Equal(got, want) {
		t.Fatalf("after a .swap leftover: %v\nwant %v", got, want)
	}
}

func TestReadsDuringCleaning(t *testing.T) {
	l := openLog(t, vfs.NewMem(), smallSegments)
	defer l.Close()
	latest := writeRounds(t, l, 20, 10, recordbatch.CodecNone)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Every read sees whole valid batches and every key's latest value.
				seen := map[string]string{}
				for _, r := range readRecords(t, l) {
					seen[r.key] = r.value
				}
				for k, r := range latest {
					if seen[k] != r.value {
						t.Errorf("key %s: read %q, want %q", k, seen[k], r.value)
						return
					}
				}
			}
		}()
	}
	// Appends go on meanwhile in the active segment.
	for range 3 {
		if _, err := l.Clean(cleanParams(t0, l)); err != nil {
			t.Fatal(err)
		}
		appendKeyed(t, l, keyedBatch(t, []kv{{"other", "x"}}, t0.UnixMilli(), 0, -1, 0), t0)
	}
	close(stop)
	wg.Wait()
	wantLatest(t, readRecords(t, l)[:len(latest)], latest)
}

func TestKeyMapComparesKeyBytes(t *testing.T) {
	m := newKeyMap()
	for i := range 10_000 {
		m.put([]byte(fmt.Sprint(i%1000)), int64(i))
	}
	m.put([]byte{}, 7)
	if m.len() != 1001 {
		t.Fatalf("%d keys, want 1001", m.len())
	}
	for k := range 1000 {
		if o, ok := m.get([]byte(fmt.Sprint(k))); !ok || o != int64(9000+k) {
			t.Fatalf("key %d: %d %v, want %d", k, o, ok, 9000+k)
		}
	}
	if o, ok := m.get([]byte{}); !ok || o != 7 {
		t.Fatalf("empty key: %d %v", o, ok)
	}
	if _, ok := m.get([]byte("absent")); ok {
		t.Fatal("absent key found")
	}
	// Keys that share a hash chain still compare by bytes.
	m.index[1] = -1
	m.entries = append(m.entries, keyEntry{start: 0, end: 1, next: -1, offset: 1})
	if e := m.find(int32(len(m.entries)-1), []byte("zz")); e != nil {
		t.Fatal("a chain entry with other bytes matched")
	}
}
