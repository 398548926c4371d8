package metadata

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"log/slog"
	"path"
	"strings"
	"testing"
	"time"

	"sluice/internal/vfs"
)

const testDir = "/data/__sluice_catalog"

var testCatalog = path.Join(testDir, catalogFile)

// newCatalog writes a catalog of three topics and returns its bytes and
// the byte offset of each frame.
func newCatalog(t *testing.T) (*vfs.MemFS, []byte, []int64) {
	t.Helper()
	fsys := vfs.NewMem()
	s, err := OpenStore(fsys, testDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var offsets []int64
	for i, name := range []string{"a", "b", "c"} {
		offsets = append(offsets, s.size)
		id := TopicID{byte(i + 1)}
		if err := s.Commit(Record{Type: RecCreateTopic, Topic: name, TopicID: id, Partitions: 3}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	return fsys, readAll(t, fsys, testCatalog), offsets
}

func readAll(t *testing.T, fsys vfs.FS, name string) []byte {
	t.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, _ := f.Size()
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && size > 0 {
		t.Fatal(err)
	}
	return b
}

func writeAll(t *testing.T, fsys vfs.FS, name string, b []byte) {
	t.Helper()
	if err := vfs.WriteFile(fsys, name, b); err != nil {
		t.Fatal(err)
	}
}

func topicNames(s *Store) []string {
	var names []string
	s.Read(func(st *State) { names = st.TopicNames() })
	return names
}

// expectRefused opens a damaged catalog and checks the refusal names the
// file, the offset and the reason, and that the file is unchanged.
func expectRefused(t *testing.T, fsys vfs.FS, damaged []byte, offset int64, reason string) {
	t.Helper()
	writeAll(t, fsys, testCatalog, damaged)
	_, err := OpenStore(fsys, testDir, Options{})
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("open of a damaged catalog: %v, want a CorruptError", err)
	}
	if ce.File != testCatalog || ce.Offset != offset || !strings.Contains(ce.Reason, reason) {
		t.Fatalf("refusal %q: want file %s, offset %d, reason containing %q", err, testCatalog, offset, reason)
	}
	if !strings.Contains(err.Error(), testCatalog) || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("message %q does not name the file and offset", err)
	}
	if got := readAll(t, fsys, testCatalog); !bytes.Equal(got, damaged) {
		t.Fatal("a refused open changed the catalog file")
	}
	if names, _ := fsys.ReadDir(testDir); len(names) != 1 {
		t.Fatalf("a refused open left files %v", names)
	}
}

// A bit flipped in any field of any frame is damage, never a torn tail.
func TestBitFlipInEveryFieldIsRefused(t *testing.T) {
	fields := []struct {
		name   string
		at     int64 // byte within the frame
		reason string
	}{
		{"length", 3, "header CRC mismatch"},
		{"length high bits", 1, "header CRC mismatch"},
		{"payload CRC", 5, "header CRC mismatch"},
		{"header CRC", 10, "header CRC mismatch"},
		{"payload", frameHeaderSize + 4, "record CRC mismatch"},
	}
	fsys, good, offsets := newCatalog(t)
	for _, off := range offsets {
		for _, f := range fields {
			for _, bit := range []byte{0x01, 0x80} {
				b := bytes.Clone(good)
				b[off+f.at] ^= bit
				t.Run(f.name, func(t *testing.T) {
					expectRefused(t, fsys, b, off, f.reason)
				})
			}
		}
	}
	// The file header: without its magic the file reads as format 1, whose
	// first length is then far past the record limit.
	b := bytes.Clone(good)
	b[0] ^= 0x01
	expectRefused(t, fsys, b, 0, "exceeds")
}

// A record whose payload CRC checks out but is not what this binary can
// apply: newer version, unknown field or type, or a change that does not
// fit the state.
func TestUnreadableRecordsAreRefused(t *testing.T) {
	fsys, good, _ := newCatalog(t)
	cases := []struct {
		name    string
		payload string
		reason  string
	}{
		{"newer version", `{"v":99,"type":"create_topic","topic":"d"}`, "newer than this binary"},
		{"unknown field", `{"v":1,"type":"create_topic","topic":"d","shiny":true}`, "does not decode"},
		{"unknown type", `{"v":1,"type":"rename_topic","topic":"a"}`, "unknown record type"},
		{"not JSON", `{"v":1,`, "does not decode"},
		{"fails to apply", `{"v":1,"type":"delete_topic","topic":"zz"}`, "unknown topic"},
		{"duplicate", `{"v":1,"type":"create_topic","topic":"a","topic_id":"09000000000000000000000000000000","partitions":1}`, "exists"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := append(bytes.Clone(good), rawFrame([]byte(c.payload))...)
			expectRefused(t, fsys, b, int64(len(good)), c.reason)
		})
	}
}

func rawFrame(payload []byte) []byte {
	var h [frameHeaderSize]byte
	binary.BigEndian.PutUint32(h[0:], uint32(len(payload)))
	binary.BigEndian.PutUint32(h[4:], crc32.Checksum(payload, crcTable))
	binary.BigEndian.PutUint32(h[8:], crc32.Checksum(h[:8], crcTable))
	return append(h[:], payload...)
}

// Bytes cut from the middle misalign every later frame: damage.
func TestFrameCutFromTheMiddleIsRefused(t *testing.T) {
	fsys, good, offsets := newCatalog(t)
	b := append(bytes.Clone(good[:offsets[1]+20]), good[offsets[2]:]...)
	expectRefused(t, fsys, b, offsets[1], "record CRC mismatch")
}

func TestGarbageAppendedIsRefused(t *testing.T) {
	fsys, good, _ := newCatalog(t)
	garbage := bytes.Repeat([]byte("garbage!"), 8)
	expectRefused(t, fsys, append(bytes.Clone(good), garbage...), int64(len(good)), "header CRC mismatch")
}

// Only the last frame cut short, or zeros where a crash left the end of
// the file unwritten, is a torn tail: it is cut and logged, and every
// record before it is kept.
func TestTornTailIsCut(t *testing.T) {
	fsys, good, offsets := newCatalog(t)
	last := offsets[2]
	cases := map[string][]byte{
		"header cut short":  good[:last+5],
		"payload cut short": good[:len(good)-3],
		"zeros after":       append(bytes.Clone(good[:last]), make([]byte, 40)...),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			writeAll(t, fsys, testCatalog, b)
			var logs bytes.Buffer
			s, err := OpenStore(fsys, testDir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := topicNames(s); len(got) != 2 || got[0] != "a" || got[1] != "b" {
				t.Fatalf("topics after a torn tail: %v, want [a b]", got)
			}
			if got := readAll(t, fsys, testCatalog); !bytes.Equal(got, good[:last]) {
				t.Fatalf("catalog is %d bytes after the cut, want %d", len(got), last)
			}
			if !strings.Contains(logs.String(), "cutting torn catalog tail") || !strings.Contains(logs.String(), "offset="+itoa(last)) {
				t.Fatalf("the cut was not logged with its offset:\n%s", logs.String())
			}
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A catalog written by an earlier version (format 1) is read and
// rewritten as format 2; a torn format-1 tail is cut.
func TestFormat1IsConverted(t *testing.T) {
	fsys := vfs.NewMem()
	fsys.MkdirAll(testDir)
	var v1 []byte
	for i, name := range []string{"a", "b"} {
		payload, _ := json.Marshal(Record{Version: 1, Type: RecCreateTopic, Topic: name, TopicID: TopicID{byte(i + 1)}, Partitions: 1})
		var h [v1HeaderSize]byte
		binary.BigEndian.PutUint32(h[0:], uint32(len(payload)))
		binary.BigEndian.PutUint32(h[4:], crc32.Checksum(payload, crcTable))
		v1 = append(append(v1, h[:]...), payload...)
	}
	writeAll(t, fsys, testCatalog, append(v1, 0, 0, 1, 0, 9)) // a torn third frame
	s, err := OpenStore(fsys, testDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := topicNames(s); len(got) != 2 {
		t.Fatalf("topics %v", got)
	}
	s.Close()
	b := readAll(t, fsys, testCatalog)
	if !bytes.HasPrefix(b, []byte(fileMagic)) {
		t.Fatal("catalog not rewritten in format 2")
	}
	s, err = OpenStore(fsys.CrashClone(), testDir, Options{})
	if err != nil {
		t.Fatalf("converted catalog after a crash: %v", err)
	}
	if got := topicNames(s); len(got) != 2 {
		t.Fatalf("topics after conversion and crash %v", got)
	}
	s.Close()
}

// --recover-catalog: the damaged file is saved byte for byte, the records
// before the damage are kept, and the store works on.
func TestRecoverKeepsThePrefixAndSavesTheDamagedFile(t *testing.T) {
	fsys, good, offsets := newCatalog(t)
	damaged := bytes.Clone(good)
	damaged[offsets[1]+frameHeaderSize+2] ^= 0x10
	writeAll(t, fsys, testCatalog, damaged)
	clock := func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) }
	s, err := OpenStore(fsys, testDir, Options{Recover: true, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if s.Recovered == nil || s.Recovered.Kept != 1 || s.Recovered.Damage.Offset != offsets[1] {
		t.Fatalf("recovery report %+v", s.Recovered)
	}
	want := testCatalog + ".damaged-20261130T120000Z"
	if s.Recovered.SavedAs != want || !bytes.Equal(readAll(t, fsys, want), damaged) {
		t.Fatalf("damaged file not saved as %s", want)
	}
	if got := topicNames(s); len(got) != 1 || got[0] != "a" {
		t.Fatalf("topics %v, want [a]", got)
	}
	if err := s.Commit(Record{Type: RecCreateTopic, Topic: "d", TopicID: TopicID{9}, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenStore(fsys.CrashClone(), testDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := topicNames(s); len(got) != 2 || got[1] != "d" {
		t.Fatalf("topics after recovery, a commit and a crash: %v", got)
	}
}

// A deleted topic's id is remembered and never taken again.
func TestDeletedTopicIDsAreRemembered(t *testing.T) {
	fsys, _, _ := newCatalog(t)
	s, err := OpenStore(fsys, testDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(Record{Type: RecDeleteTopic, Topic: "b"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenStore(fsys.CrashClone(), testDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var name string
	var ok bool
	s.Read(func(st *State) { name, ok = st.DeletedTopic(TopicID{2}) })
	if !ok || name != "b" {
		t.Fatalf("deleted topic id: %q %v", name, ok)
	}
	if err := s.Commit(Record{Type: RecCreateTopic, Topic: "b", TopicID: TopicID{2}, Partitions: 1}); err == nil {
		t.Fatal("a deleted topic's id was taken again")
	}
}

func TestOversizedRecordIsRefusedWithoutSticking(t *testing.T) {
	s, err := OpenStore(vfs.NewMem(), testDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	big := strings.Repeat("x", maxRecordBytes)
	err = s.Commit(Record{Type: RecCreateTopic, Topic: "a", TopicID: TopicID{1}, Partitions: 1, Configs: map[string]*string{"k": &big}})
	if err == nil {
		t.Fatal("a record over the limit was written")
	}
	if err := s.Commit(Record{Type: RecCreateTopic, Topic: "a", TopicID: TopicID{1}, Partitions: 1}); err != nil {
		t.Fatalf("store stuck after refusing a large record: %v", err)
	}
}

// FuzzCatalog feeds arbitrary bytes to the catalog decoder: no panic, the
// accepted prefix is within the input, and decoding the accepted prefix
// again gives the same records and no torn tail.
func FuzzCatalog(f *testing.F) {
	one, _ := appendFrame([]byte(fileMagic), Record{Version: 1, Type: RecClusterID, ClusterID: "x"})
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add(one)
	f.Add(append(bytes.Clone(one), "garbage after"...))
	f.Add(one[:len(one)-2])
	scram, _ := appendFrame(bytes.Clone(one), Record{Version: 2, Type: RecScram, User: "u",
		Scram: map[string]*ScramCredential{ScramSHA256: {Salt: []byte("s"), Iterations: 4096, StoredKey: []byte("k"), ServerKey: []byte("v")}}})
	f.Add(scram)
	f.Add(append(bytes.Clone(scram), scram[len(one):]...)) // the same credential twice: it replaces itself
	f.Fuzz(func(t *testing.T, b []byte) {
		var recs []Record
		st := NewState()
		res, err := scan("fuzz", b, func(r Record) error {
			if err := st.Apply(r); err != nil {
				return err
			}
			recs = append(recs, r)
			return nil
		})
		if res.end > int64(len(b)) || res.end < 0 {
			t.Fatalf("accepted %d of %d bytes", res.end, len(b))
		}
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Offset != res.end {
				t.Fatalf("error %v at %d", err, res.end)
			}
			return
		}
		if res.legacy {
			return
		}
		var again []Record
		res2, err := scan("fuzz", b[:res.end], func(r Record) error { again = append(again, r); return nil })
		if err != nil || res2.torn != nil || res2.end != res.end || len(again) != len(recs) {
			t.Fatalf("prefix re-decoded differently: %v %+v, %d vs %d records", err, res2, len(again), len(recs))
		}
	})
}
