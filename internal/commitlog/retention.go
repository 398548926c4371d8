package commitlog

import (
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// EnforceRetention deletes the oldest segments, never the active one,
// while the log's total size exceeds RetentionBytes by at least the
// segment's size, or while the segment's largest timestamp is older than
// now minus RetentionAge. StartOffset moves to the first remaining
// segment. A segment whose batches carry no timestamp (-1) never expires
// by age: its age is unknown and deleting it could lose fresh data.
func (l *Log) EnforceRetention(now time.Time) (removedSegments int, err error) {
	cfg := l.cfg.Load()
	cutoff := now.Add(-cfg.RetentionAge).UnixMilli()
	l.swapMu.Lock()
	defer l.swapMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	var total int64
	for _, s := range l.segs {
		total += s.size.Load()
	}
	var victims []*segment
	for len(l.segs) > 1 {
		s := l.segs[0]
		size := s.size.Load()
		bySize := cfg.RetentionBytes >= 0 && total-size >= cfg.RetentionBytes
		ts, hasTS := s.largestTimestamp()
		byAge := cfg.RetentionAge >= 0 && hasTS && ts >= 0 && ts < cutoff
		// A segment the cleaner emptied has no timestamp; it must not hold
		// back the expiry of the segments after it.
		emptied := size == 0 && cfg.RetentionAge >= 0
		if !bySize && !byAge && !emptied {
			break
		}
		victims = append(victims, s)
		l.segs = l.segs[1:]
		total -= size
		l.logger.Info("commitlog: deleting segment", "dir", l.dir, "segment", s.name,
			"bytes", size, "bySize", bySize, "byAge", byAge)
	}
	if len(victims) > 0 {
		l.setStartLocked(l.segs[0].base)
	}
	l.mu.Unlock()
	if len(victims) == 0 {
		return 0, nil
	}
	err = l.removeSegments(victims)
	// Make the deletions durable now: the log may sit idle with no Sync
	// coming. Until then a crash only brings old segments back.
	if serr := l.fsys.SyncDir(l.dir); serr != nil && err == nil {
		err = l.fail(fmt.Errorf("commitlog: fsync dir %s: %w", l.dir, serr))
	}
	return len(victims), err
}

// removeSegments deletes the files of segments already dropped from the
// list, in the given order, and releases the log's references to them.
func (l *Log) removeSegments(victims []*segment) error {
	var err error
	for _, s := range victims {
		for _, suffix := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
			rerr := l.fsys.Remove(l.path(s.base, suffix))
			if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
				err = fmt.Errorf("commitlog: remove segment: %w", rerr)
			}
		}
		if cerr := s.unref(); cerr != nil {
			l.logger.Warn("commitlog: closing segment", "dir", l.dir, "segment", s.name, "err", cerr)
		}
	}
	return err
}
