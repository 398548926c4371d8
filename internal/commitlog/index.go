package commitlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// The indexes are kept in memory in exactly their file encoding, so
// writing them out is a single Write and loading them is a single ReadAt.

const (
	offsetEntrySize = 8  // relative offset uint32, position uint32
	timeEntrySize   = 12 // timestamp int64, relative offset uint32
)

// offsetIndex is a sparse map from relative offset to file position: one
// entry every IndexIntervalBytes of log, for the batch starting there.
type offsetIndex []byte

func (x offsetIndex) len() int { return len(x) / offsetEntrySize }

func (x offsetIndex) entry(i int) (rel uint32, pos int64) {
	e := x[i*offsetEntrySize:]
	return binary.BigEndian.Uint32(e), int64(binary.BigEndian.Uint32(e[4:]))
}

func (x offsetIndex) append(rel uint32, pos int64) offsetIndex {
	x = binary.BigEndian.AppendUint32(x, rel)
	return binary.BigEndian.AppendUint32(x, uint32(pos))
}

// lookup returns the position of the last indexed batch starting at or
// before rel, or 0 (the segment's first batch) when there is none.
func (x offsetIndex) lookup(rel uint32) int64 {
	i := sort.Search(x.len(), func(i int) bool {
		r, _ := x.entry(i)
		return r > rel
	})
	if i == 0 {
		return 0
	}
	_, pos := x.entry(i - 1)
	return pos
}

// truncated returns a copy holding the entries of batches before pos.
func (x offsetIndex) truncated(pos int64) offsetIndex {
	n := sort.Search(x.len(), func(i int) bool {
		_, p := x.entry(i)
		return p >= pos
	})
	return append(offsetIndex(nil), x[:n*offsetEntrySize]...)
}

// check reports why x cannot be trusted for a log of logSize bytes.
func (x offsetIndex) check(logSize int64) error {
	if len(x)%offsetEntrySize != 0 {
		return fmt.Errorf("size %d is not a multiple of %d", len(x), offsetEntrySize)
	}
	var prevRel uint32
	var prevPos int64
	for i := range x.len() {
		rel, pos := x.entry(i)
		if i > 0 && (rel <= prevRel || pos <= prevPos) {
			return fmt.Errorf("entry %d (%d@%d) does not increase", i, rel, pos)
		}
		if pos >= logSize {
			return fmt.Errorf("entry %d points at %d, past the log's %d bytes", i, pos, logSize)
		}
		prevRel, prevPos = rel, pos
	}
	return nil
}

// timeIndex has an entry for every batch that raised the segment's
// largest timestamp. So the first entry with a timestamp >= ts names
// exactly the first batch whose MaxTimestamp is >= ts, and the last entry
// names the first batch holding the segment's largest timestamp.
type timeIndex []byte

func (x timeIndex) len() int { return len(x) / timeEntrySize }

func (x timeIndex) entry(i int) (ts int64, rel uint32) {
	e := x[i*timeEntrySize:]
	return int64(binary.BigEndian.Uint64(e)), binary.BigEndian.Uint32(e[8:])
}

func (x timeIndex) append(ts int64, rel uint32) timeIndex {
	x = binary.BigEndian.AppendUint64(x, uint64(ts))
	return binary.BigEndian.AppendUint32(x, rel)
}

// last returns the newest entry.
func (x timeIndex) last() (ts int64, rel uint32, ok bool) {
	if x.len() == 0 {
		return 0, 0, false
	}
	ts, rel = x.entry(x.len() - 1)
	return ts, rel, true
}

// firstAtLeast returns the first entry whose timestamp is >= ts.
func (x timeIndex) firstAtLeast(ts int64) (rel uint32, ok bool) {
	i := sort.Search(x.len(), func(i int) bool {
		t, _ := x.entry(i)
		return t >= ts
	})
	if i == x.len() {
		return 0, false
	}
	_, rel = x.entry(i)
	return rel, true
}

// lastBelow returns the last entry whose batch starts before relLimit.
func (x timeIndex) lastBelow(relLimit int64) (ts int64, rel uint32, ok bool) {
	i := sort.Search(x.len(), func(i int) bool {
		_, r := x.entry(i)
		return int64(r) >= relLimit
	})
	if i == 0 {
		return 0, 0, false
	}
	ts, rel = x.entry(i - 1)
	return ts, rel, true
}

// truncated returns a copy holding the entries of batches before rel.
func (x timeIndex) truncated(rel int64) timeIndex {
	n := sort.Search(x.len(), func(i int) bool {
		_, r := x.entry(i)
		return int64(r) >= rel
	})
	return append(timeIndex(nil), x[:n*timeEntrySize]...)
}

var errEmptyTimeIndex = errors.New("empty time index for a non-empty segment")

// check reports why x cannot be trusted for a segment holding relative
// offsets below nextRel.
func (x timeIndex) check(nextRel int64) error {
	if len(x)%timeEntrySize != 0 {
		return fmt.Errorf("size %d is not a multiple of %d", len(x), timeEntrySize)
	}
	if x.len() == 0 && nextRel > 0 {
		// The first batch of a segment always makes an entry.
		return errEmptyTimeIndex
	}
	var prevTS int64
	var prevRel uint32
	for i := range x.len() {
		ts, rel := x.entry(i)
		if i == 0 && rel != 0 {
			return fmt.Errorf("first entry names offset %d, not the first batch", rel)
		}
		if i > 0 && (ts <= prevTS || rel <= prevRel) {
			return fmt.Errorf("entry %d (%d@%d) does not increase", i, ts, rel)
		}
		if int64(rel) >= nextRel {
			return fmt.Errorf("entry %d names offset %d, past the segment", i, rel)
		}
		prevTS, prevRel = ts, rel
	}
	return nil
}
