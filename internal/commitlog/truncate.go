package commitlog

import (
	"fmt"

	"sluice/internal/recordbatch"
)

// TruncateTo removes every batch at or after offset, which must be a batch
// boundary between StartOffset and NextOffset. Later segments are deleted
// newest first and the directory synced before the segment holding offset
// is cut and synced, so a crash at any point leaves a prefix of the log.
// The aborted-transaction entries and leader-epoch entries of what was cut
// go after it. A replica uses it to drop batches its leader does not have.
func (l *Log) TruncateTo(offset int64) error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.stickyErr(); err != nil {
		return err
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.swapMu.Lock()
	defer l.swapMu.Unlock()

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	next := l.next.Load()
	if offset == next {
		l.mu.Unlock()
		return nil
	}
	if offset < l.start.Load() || offset > next {
		l.mu.Unlock()
		return fmt.Errorf("%w: truncate to %d, log holds [%d, %d)", ErrOffsetOutOfRange, offset, l.start.Load(), next)
	}
	i := l.segmentIndexLocked(offset)
	s := l.segs[i]
	pos, err := l.boundaryLocked(s, offset)
	if err != nil {
		l.mu.Unlock()
		return err
	}
	victims := append([]*segment(nil), l.segs[i+1:]...)
	l.segs = l.segs[:i+1]
	l.active = s
	// Readers are excluded while mu is held; once it is released they see
	// the shorter log and appends stay blocked until the files match.
	s.truncateMemory(offset, pos)
	l.next.Store(offset)
	epochsCut := l.epochs.truncateFromEnd(offset)
	l.synced.Store(min(l.synced.Load(), offset))
	l.mu.Unlock()

	l.logger.Info("commitlog: truncating", "dir", l.dir, "offset", offset, "segment", s.name,
		"position", pos, "deletedSegments", len(victims))
	for j, k := 0, len(victims)-1; j < k; j, k = j+1, k-1 {
		victims[j], victims[k] = victims[k], victims[j]
	}
	if err := l.removeSegments(victims); err != nil {
		return l.fail(err)
	}
	if len(victims) > 0 {
		if err := l.fsys.SyncDir(l.dir); err != nil {
			return l.fail(fmt.Errorf("commitlog: fsync dir %s: %w", l.dir, err))
		}
	}
	if err := s.file.Truncate(pos); err != nil {
		return l.fail(fmt.Errorf("commitlog: truncate %s/%s: %w", l.dir, s.name, err))
	}
	s.alloc = pos
	if err := s.file.Sync(); err != nil {
		return l.fail(fmt.Errorf("commitlog: fsync %s/%s: %w", l.dir, s.name, err))
	}
	// After the log: a crash in between leaves entries past the log's
	// end, which recovery drops, never a marker without its entry.
	s.mu.Lock()
	err = l.truncateTxnIndexLocked(s, offset)
	s.mu.Unlock()
	if err != nil {
		return l.fail(fmt.Errorf("commitlog: truncate %s: %w", l.path(s.base, txnIndexSuffix), err))
	}
	// The epoch entries last, for the same reason: a crash before this
	// leaves entries past the end, which the next open drops.
	if epochsCut {
		return l.writeEpochCheckpoint()
	}
	return nil
}

// boundaryLocked returns the position of the batch of s starting exactly
// at offset. Requires l.mu.
func (l *Log) boundaryLocked(s *segment, offset int64) (int64, error) {
	if offset == s.base {
		return 0, nil
	}
	hdr := make([]byte, recordbatch.HeaderSize)
	pos, h, ok, err := s.findBatch(offset, s.size.Load(), hdr)
	if err != nil {
		return 0, err
	}
	if !ok || h.base != offset {
		return 0, fmt.Errorf("%w: %d", ErrNotBoundary, offset)
	}
	return pos, nil
}

// truncateMemory cuts the in-memory state of s to the batches before
// offset, which start at position pos. Requires appendMu and l.mu.
func (s *segment) truncateMemory(offset, pos int64) {
	s.tail.clear()
	s.mu.Lock()
	s.offIdx = s.offIdx.truncated(pos)
	s.timeIdx = s.timeIdx.truncated(offset - s.base)
	s.mu.Unlock()
	s.syncAppenderState()
	s.indexOnDisk = false
	s.size.Store(pos)
	s.next.Store(offset)
	s.synced.Store(min(s.synced.Load(), pos))
	if pos == 0 {
		s.rollBaseMs = noTime
	}
}
