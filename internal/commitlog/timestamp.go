package commitlog

// ReadBatchAtTimestamp returns a copy of the first batch, wholly below
// maxOffset, whose MaxTimestamp is >= ts, or nil when there is none. The
// time indexes name that batch directly (see timeIndex), so only one
// segment is scanned.
func (l *Log) ReadBatchAtTimestamp(ts int64, maxOffset int64) ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, ErrClosed
	}
	limit := min(maxOffset, l.next.Load())
	for _, s := range l.segs {
		s.mu.RLock()
		rel, ok := s.timeIdx.firstAtLeast(ts)
		s.mu.RUnlock()
		if !ok {
			continue
		}
		// Later segments only hold later offsets, so the first match decides.
		offset := s.base + int64(rel)
		if offset >= limit {
			return nil, nil
		}
		return s.batchAt(offset, limit)
	}
	return nil, nil
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
