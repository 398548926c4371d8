package commitlog

import "fmt"

// syncTarget is a pinned segment and the size to record as durable once
// its fsync returns.
type syncTarget struct {
	s    *segment
	size int64
}

// Sync makes every batch appended so far durable: it fsyncs each segment
// with unsynced bytes and, when segments were created, the directory. When
// it returns nil, every batch whose Append returned before Sync was called
// is durable. It runs concurrently with Append (the partition's group
// commit flusher calls it while appends continue); a failure is sticky.
func (l *Log) Sync() error {
	if err := l.stickyErr(); err != nil {
		return err
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if err := l.stickyErr(); err != nil {
		return err
	}
	// Read the end offset before the sizes: Append publishes a segment's
	// size before the end offset, so the sizes cover every batch below it.
	next := l.next.Load()
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	targets := l.pending[:0]
	for _, s := range l.segs {
		if size := s.size.Load(); size > s.synced.Load() || s.txnUnsynced.Load() {
			s.ref() // retention may drop the segment while we fsync it
			targets = append(targets, syncTarget{s, size})
		}
	}
	l.mu.RUnlock()
	err := l.syncSegments(targets, l.dirDirty.Swap(false))
	clear(targets) // do not keep deleted segments reachable
	l.pending = targets[:0]
	if err == nil {
		l.raiseSynced(next)
	}
	return err
}

// syncSegments fsyncs the targets in offset order, then the directory if
// dirty, and unpins the targets. Requires syncMu.
func (l *Log) syncSegments(targets []syncTarget, dirty bool) error {
	var err error
	var covered int64
	for _, t := range targets {
		covered += max(t.size-t.s.synced.Load(), 0)
		if err == nil {
			// The aborted-transaction index first: a marker must not be
			// durable without its entry.
			if serr := t.s.syncTxnIndex(); serr != nil {
				err = l.fail(fmt.Errorf("commitlog: fsync %s: %w", l.path(t.s.base, txnIndexSuffix), serr))
			} else if serr := t.s.file.Sync(); serr != nil {
				err = l.fail(fmt.Errorf("commitlog: fsync %s/%s: %w", l.dir, t.s.name, serr))
			} else {
				t.s.markSynced(t.size)
			}
		}
		if cerr := t.s.unref(); cerr != nil {
			l.logger.Warn("commitlog: closing segment", "dir", l.dir, "segment", t.s.name, "err", cerr)
		}
	}
	if len(targets) > 0 {
		l.lastSyncBytes.Store(covered)
	}
	if err == nil && dirty {
		if serr := l.fsys.SyncDir(l.dir); serr != nil {
			err = l.fail(fmt.Errorf("commitlog: fsync dir %s: %w", l.dir, serr))
		}
	}
	return err
}

// raiseSynced moves SyncedOffset up to next. Requires syncMu.
func (l *Log) raiseSynced(next int64) {
	if next > l.synced.Load() {
		l.synced.Store(next)
	}
}
