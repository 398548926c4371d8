package commitlog

import (
	"fmt"
	"slices"
	"sort"

	"sluice/internal/bufpool"
	"sluice/internal/recordbatch"
)

// Read appends to dst the bytes of whole batches, starting with the batch
// that contains offset, taking only batches that end at or below maxOffset
// (the caller passes the high watermark) and stopping before a batch that
// would take the bytes appended past maxBytes. The first batch is returned
// whole even when larger than maxBytes, so a consumer can always make
// progress (KIP-74).
//
// It returns dst unchanged when offset >= maxOffset, and
// ErrOffsetOutOfRange when offset is below StartOffset or above NextOffset.
// Read is safe concurrently with Append: it holds Log.mu shared, which keeps
// retention and truncation away from the segments it reads, while appends
// only add bytes past the size it looked at.
func (l *Log) Read(offset, maxOffset int64, maxBytes int, dst []byte) ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return dst, ErrClosed
	}
	if offset < l.start.Load() || offset > l.next.Load() {
		return dst, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, l.start.Load(), l.next.Load())
	}
	if offset >= maxOffset {
		return dst, nil
	}
	var hdr [recordbatch.HeaderSize]byte
	orig := len(dst)
	budget := int64(maxBytes)
	for i := l.segmentIndexLocked(offset); i < len(l.segs); i++ {
		before := len(dst)
		var more bool
		var err error
		dst, more, err = l.segs[i].readInto(offset, maxOffset, budget, len(dst) == orig, dst, hdr[:])
		if err != nil {
			return dst[:orig], err
		}
		budget -= int64(len(dst) - before)
		if !more {
			break
		}
	}
	return dst, nil
}

// segmentIndexLocked returns the index of the segment that would hold
// offset: the last one whose base is <= offset. Requires l.mu.
func (l *Log) segmentIndexLocked(offset int64) int {
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset })
	return max(i-1, 0)
}

// readInto appends to dst the batches of s from the one ending after
// offset, under Read's rules. first says no batch was taken yet, so the
// KIP-74 exception applies. more reports that the segment was read to its
// end and the next segment may continue.
func (s *segment) readInto(offset, maxOffset, budget int64, first bool, dst, hdr []byte) (out []byte, more bool, err error) {
	size := s.size.Load()
	pos, h, ok, err := s.findBatch(offset, size, hdr)
	if err != nil || !ok {
		return dst, err == nil, err
	}
	if h.next > maxOffset {
		return dst, false, nil
	}
	want := min(size-pos, budget)
	if first {
		want = max(want, h.size)
	}
	if want < h.size {
		return dst, false, nil
	}
	// Read everything that may qualify with one ReadAt straight into dst's
	// spare capacity, then keep the whole batches that do.
	start := len(dst)
	if start == 0 && cap(dst) < int(want) {
		// A fresh buffer from the pool: the caller may return it once the
		// records are sent (bufpool.Put), and it needs no zeroing.
		dst = bufpool.Get(int(want))[:0]
	}
	dst = slices.Grow(dst, int(want))[:start+int(want)]
	buf := dst[start:]
	if err := readFull(s.file, buf, pos); err != nil {
		return dst[:start], false, err
	}
	n := wholeBatches(buf, maxOffset)
	if n == 0 {
		return dst[:start], false, corruptAt(s, pos)
	}
	return dst[:start+n], pos+int64(n) == size, nil
}

// wholeBatches returns the length of the longest prefix of buf made of
// whole batches that end at or below maxOffset.
func wholeBatches(buf []byte, maxOffset int64) int {
	off := 0
	for len(buf)-off >= recordbatch.HeaderSize {
		n := recordbatch.Size(buf[off:])
		if n < recordbatch.HeaderSize || n > int64(len(buf)-off) {
			break
		}
		if recordbatch.Batch(buf[off:]).NextOffset() > maxOffset {
			break
		}
		off += int(n)
	}
	return off
}
