package recordbatch

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// Retain on a stored batch (Frame only: the cleaner reads disk) never
// panics, and what it writes is one valid batch with the kept records,
// their offsets and timestamps, and the original last offset delta.
func FuzzRetain(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add(binary.BigEndian.AppendUint32(make([]byte, 8), 0xFFFFFFFF), uint8(1))
	for _, c := range codecs {
		good := build(f, 5, c, 0)
		f.Add(good, uint8(0b10101))
		f.Add(append(append([]byte(nil), good...), "garbage"...), uint8(0xff))
	}
	f.Fuzz(func(t *testing.T, in []byte, mask uint8) {
		b, err := Frame(in)
		if err != nil {
			return
		}
		var want [][2]int64 // offset, timestamp of the kept records
		i := 0
		keep := func(offset int64, key, value []byte) bool {
			k := mask&(1<<(i%8)) != 0
			i++
			return k
		}
		out, res, err := b.Retain(nil, keep, 1_000_000)
		if err != nil || !res.Rewritten {
			return
		}
		nb, err := Frame(out)
		if err != nil || len(nb) != len(out) {
			t.Fatalf("rewritten batch does not frame: %v", err)
		}
		if nb.RecordCount() != res.Kept || nb.LastOffsetDelta() != b.LastOffsetDelta() || nb.BaseOffset() != b.BaseOffset() {
			t.Fatalf("count %d (kept %d), delta %d (was %d), base %d (was %d)", nb.RecordCount(), res.Kept,
				nb.LastOffsetDelta(), b.LastOffsetDelta(), nb.BaseOffset(), b.BaseOffset())
		}
		i = 0
		_ = b.RecordTimestamps(func(o, ts int64) bool {
			if mask&(1<<(i%8)) != 0 {
				want = append(want, [2]int64{o, ts})
			}
			i++
			return true
		})
		var got [][2]int64
		if err := nb.RecordTimestamps(func(o, ts int64) bool { got = append(got, [2]int64{o, ts}); return true }); err != nil {
			t.Fatalf("reading the rewritten batch: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d records, want %d", len(got), len(want))
		}
		for j := range got {
			if got[j] != want[j] && !b.HasLogAppendTime() {
				t.Fatalf("record %d: offset/timestamp %v, want %v", j, got[j], want[j])
			}
		}
	})
}

func TestRetainStampsDeleteHorizon(t *testing.T) {
	raw := Build(nil, []Record{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b")}}, 5000, 0)
	b := Batch(raw)
	keepAll := func(int64, []byte, []byte) bool { return true }
	out, res, err := b.Retain(nil, keepAll, 9000)
	if err != nil || !res.Rewritten || !res.Tombstones || res.Kept != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	nb, _ := Frame(out)
	if h, ok := nb.DeleteHorizon(); !ok || h != 9000 {
		t.Fatalf("horizon %d %v", h, ok)
	}
	var stamps []int64
	nb.RecordTimestamps(func(_, ts int64) bool { stamps = append(stamps, ts); return true })
	if len(stamps) != 2 || stamps[0] != 5000 || stamps[1] != 5000 {
		t.Fatalf("timestamps %v, want 5000 5000", stamps)
	}
	// Stamped once: a second pass that keeps everything leaves it alone.
	again, res, err := nb.Retain(nil, keepAll, 20000)
	if err != nil || res.Rewritten || len(again) != 0 {
		t.Fatalf("second pass rewrote: %+v %v", res, err)
	}
	// An empty header keeps offsets and producer fields, and frames.
	hdr := nb.AppendEmptyHeader(nil)
	eb, err := Frame(hdr)
	if err != nil || eb.RecordCount() != 0 || eb.LastOffsetDelta() != 1 || !bytes.Equal(hdr[43:57], raw[43:57]) {
		t.Fatalf("empty header: %v", err)
	}
}
