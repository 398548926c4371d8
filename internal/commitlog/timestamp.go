package commitlog

import "sluice/internal/recordbatch"

// ReadBatchAtTimestamp returns a copy of the first batch, wholly below
// maxOffset and ending after from (raised to StartOffset), whose
// MaxTimestamp is >= ts, or nil when there is none. The time indexes name
// that batch directly (see timeIndex), so only one segment is read, except
// when the batch they name ends at or below from: the batch headers after
// from are then walked, as Kafka searches from the log start offset.
func (l *Log) ReadBatchAtTimestamp(ts, from, maxOffset int64) ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, ErrClosed
	}
	from = max(from, l.start.Load())
	limit := min(maxOffset, l.next.Load())
	for _, s := range l.segs {
		if s.next.Load() <= from {
			continue
		}
		s.mu.RLock()
		rel, ok := s.timeIdx.firstAtLeast(ts)
		s.mu.RUnlock()
		if !ok {
			continue
		}
		offset := s.base + int64(rel)
		if offset >= limit {
			return nil, nil
		}
		if offset >= from {
			// Later segments only hold later offsets, so the first match decides.
			return s.batchAt(offset, limit)
		}
		b, done, err := s.firstBatchAtTimestamp(ts, from, limit)
		if err != nil || done {
			return b, err
		}
	}
	return nil, nil
}

// firstBatchAtTimestamp walks the batches of s from the one holding from
// and returns a copy of the first whose MaxTimestamp is >= ts. done is
// false when s has none, and the search goes on in the next segment; it
// is true with a nil batch when the walk reached limit.
func (s *segment) firstBatchAtTimestamp(ts, from, limit int64) (b []byte, done bool, err error) {
	hdr := make([]byte, recordbatch.HeaderSize)
	size := s.size.Load()
	pos, h, ok, err := s.findBatch(from, size, hdr)
	for ; ok && err == nil; pos, h, ok, err = s.findBatch(h.next, size, hdr) {
		if h.next > limit {
			return nil, true, nil
		}
		if h.maxTS >= ts {
			b = make([]byte, h.size)
			return b, true, readFull(s.file, b, pos)
		}
	}
	return nil, false, err
}

// BatchWithMaxTimestamp returns a copy of the first batch, wholly below
// maxOffset, that holds the log's largest MaxTimestamp, or nil when there
// is none.
func (l *Log) BatchWithMaxTimestamp(maxOffset int64) ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, ErrClosed
	}
	limit := min(maxOffset, l.next.Load())
	// A batch starting below limit but ending past it (limit not on a batch
	// boundary) does not qualify: retry below it.
	for range 8 {
		s, offset, ok := l.maxTimestampBelowLocked(limit)
		if !ok {
			return nil, nil
		}
		b, err := s.batchAt(offset, limit)
		if err != nil || b != nil {
			return b, err
		}
		limit = offset
	}
	return nil, nil
}

// maxTimestampBelowLocked finds the first batch starting below limit with
// the largest MaxTimestamp. Requires l.mu.
func (l *Log) maxTimestampBelowLocked(limit int64) (best *segment, offset int64, ok bool) {
	var bestTS int64
	for _, s := range l.segs {
		if s.base >= limit {
			break
		}
		s.mu.RLock()
		ts, rel, found := s.timeIdx.lastBelow(limit - s.base)
		s.mu.RUnlock()
		if found && (!ok || ts > bestTS) {
			best, offset, bestTS, ok = s, s.base+int64(rel), ts, true
		}
	}
	return best, offset, ok
}
