package commitlog

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"reflect"
	"testing"
)

func TestEpochCheckpointRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		highest int32
		entries []EpochEntry
	}{
		{NoEpoch, []EpochEntry{}},
		{4, []EpochEntry{}},
		{7, []EpochEntry{{0, 0}, {2, 17}, {7, 1 << 40}}},
	} {
		data := encodeEpochCheckpoint(tc.highest, tc.entries)
		highest, entries, err := decodeEpochCheckpoint(data)
		if err != nil || highest != tc.highest || !reflect.DeepEqual(entries, tc.entries) {
			t.Errorf("round trip of %d %v: %d %v %v", tc.highest, tc.entries, highest, entries, err)
		}
	}
}

// Every damage is refused: the caller then rebuilds the entries from the
// log rather than trusting a file it cannot read.
func TestEpochCheckpointDamageRefused(t *testing.T) {
	good := encodeEpochCheckpoint(3, []EpochEntry{{0, 0}, {3, 50}})
	resum := func(b []byte) []byte {
		binary.BigEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
		return b
	}
	edit := func(fn func(b []byte) []byte) []byte { return fn(bytes.Clone(good)) }
	for name, data := range map[string][]byte{
		"empty":          nil,
		"cut":            good[:len(good)-1],
		"bit flip":       edit(func(b []byte) []byte { b[12] ^= 1; return b }),
		"garbage after":  append(bytes.Clone(good), 0),
		"version":        edit(func(b []byte) []byte { b[1] = 1; return resum(b) }),
		"count":          edit(func(b []byte) []byte { b[9] = 3; return resum(b) }),
		"epochs reverse": resum(encodeEpochCheckpoint(3, []EpochEntry{{3, 0}, {0, 50}})),
		"starts reverse": resum(encodeEpochCheckpoint(3, []EpochEntry{{0, 50}, {3, 0}})),
		"negative start": resum(encodeEpochCheckpoint(3, []EpochEntry{{0, -5}})),
		"highest below":  resum(encodeEpochCheckpoint(2, []EpochEntry{{0, 0}, {3, 50}})),
	} {
		if _, _, err := decodeEpochCheckpoint(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzDecodeEpochCheckpoint: no input panics, and whatever decodes
// encodes back to the same bytes.
func FuzzDecodeEpochCheckpoint(f *testing.F) {
	good := encodeEpochCheckpoint(3, []EpochEntry{{0, 0}, {3, 50}})
	f.Add(good)
	f.Add(append(bytes.Clone(good), 1, 2, 3))
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		highest, entries, err := decodeEpochCheckpoint(data)
		if err != nil {
			return
		}
		if again := encodeEpochCheckpoint(highest, entries); !bytes.Equal(again, data) {
			t.Fatalf("decoded %d %v re-encodes differently", highest, entries)
		}
	})
}
