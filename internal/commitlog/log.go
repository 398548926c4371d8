// Package commitlog stores one partition's log on disk: record batches
// back to back in segment files named by base offset, each with a sparse
// offset index and a time index, Kafka style.
//
// The promise: a batch that was acknowledged (its Append returned before a
// Sync that returned nil) survives a crash, and a corrupt batch is never
// served. Recovery in Open keeps that promise; sticky errors keep it at run
// time, since after a failed write or fsync the state of the file is
// unknown and carrying on could acknowledge lost data.
package commitlog

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// Log is one partition's log. Append, TruncateTo and Close are serialized
// by the log; everything else may run concurrently with them and with
// each other.
//
// Lock order: cleanMu, then appendMu, then syncMu, then swapMu, then mu,
// then segment.mu.
type Log struct {
	fsys   vfs.FS
	dir    string
	logger *slog.Logger
	cfg    atomic.Pointer[Config]

	// appendMu serializes Append, TruncateTo and Close, and guards active
	// and the segments' appender-owned fields. The partition already
	// serializes appends, so it is never contended on the hot path.
	appendMu sync.Mutex
	active   *segment // nil once closed; also written under mu

	// cleanMu serializes Clean and Close; closing asks a cleaning in
	// progress to stop, so Close waits at most one batch for it.
	cleanMu   sync.Mutex
	closing   atomic.Bool
	cleanedTo atomic.Int64 // cleaner checkpoint; see CleanedTo
	// tombstoneHorizon is the earliest delete horizon of the tombstones
	// the last cleaning kept (ms, 0 for none).
	tombstoneHorizon atomic.Int64

	// swapMu serializes the changes that delete segments other than the
	// active one: the cleaner's swap, retention, DeleteBefore, TruncateTo.
	swapMu sync.Mutex

	// syncMu serializes Sync, TruncateTo and Close; guards pending.
	syncMu  sync.Mutex
	pending []syncTarget

	// mu guards segs and closed. Read holds it shared for its whole run,
	// so retention and truncation (exclusive) never pull a segment from
	// under a reader.
	mu     sync.RWMutex
	segs   []*segment
	closed bool

	// epochs is the leader-epoch cache, kept in step with the log's start
	// and end (epochcache.go, epochs.go). Its lock is a leaf.
	epochs *epochCache

	start    atomic.Int64 // first offset held
	next     atomic.Int64 // log end offset
	synced   atomic.Int64 // offset after the last durable batch
	dirDirty atomic.Bool  // segments were created since the last SyncDir
	// lastSyncBytes is how many bytes the last sync made durable: whether
	// preallocating pays (preallocate.go).
	lastSyncBytes atomic.Int64
	failed        atomic.Pointer[error]
}

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// NextOffset returns the log end offset: the offset the next batch gets.
func (l *Log) NextOffset() int64 { return l.next.Load() }

// StartOffset returns the first offset still held.
func (l *Log) StartOffset() int64 { return l.start.Load() }

// SyncedOffset returns the offset after the last batch known durable.
func (l *Log) SyncedOffset() int64 { return l.synced.Load() }

// Size returns the total bytes of all segments.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size.Load()
	}
	return n
}

// Segments returns the number of segments.
func (l *Log) Segments() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.segs)
}

// SetConfig changes the roll and retention settings; they apply from the
// next Append or EnforceRetention. The logger given to Open is kept.
func (l *Log) SetConfig(cfg Config) {
	cfg.Logger = l.logger
	cfg = cfg.withDefaults()
	l.cfg.Store(&cfg)
}

// stickyErr returns the first write, fsync or truncate failure, if any.
func (l *Log) stickyErr() error {
	if p := l.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// fail records err as the sticky error unless one is already recorded,
// and returns the recorded one. After a failed write or fsync the kernel
// may have dropped dirty pages and the file's contents are unknown, so
// retrying and reporting success could acknowledge lost data: the log
// refuses all further writes instead, and a restart runs recovery.
func (l *Log) fail(err error) error {
	if l.failed.CompareAndSwap(nil, &err) {
		l.logger.Error("commitlog: write failure, log is now read-only", "dir", l.dir, "err", err)
	}
	return *l.failed.Load()
}

// Append writes one whole batch, whose base offset must be NextOffset(),
// to the active segment, rolling first if the segment is too big or too
// old. The bytes are stored exactly as given, once their framing and CRC
// check. now is the append time, for age-based rolling.
func (l *Log) Append(batch []byte, now time.Time) error {
	return l.append(batch, now, true)
}

// AppendVerified is Append for a batch whose CRC its holder has checked
// or computed since the bytes it covers last changed (see
// recordbatch.FrameSkippingCRC): its framing is checked, its CRC is not
// computed again.
func (l *Log) AppendVerified(batch recordbatch.Batch, now time.Time) error {
	return l.append(batch, now, false)
}

func (l *Log) append(batch []byte, now time.Time, checkCRC bool) error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.stickyErr(); err != nil {
		return err
	}
	s := l.active
	if s == nil {
		return ErrClosed
	}
	h, err := l.checkBatch(batch, checkCRC)
	if err != nil {
		return err
	}
	cfg := l.cfg.Load()
	if l.shouldRoll(s, h, now, cfg) {
		if s, err = l.roll(); err != nil {
			return err
		}
	}
	if err := l.noteBatchEpochLocked(h); err != nil {
		return err
	}
	pos := s.size.Load()
	if _, err := s.file.WriteAt(batch, pos); err != nil {
		// A partial write may have left bytes past size: the sticky error
		// stops appends, and recovery cuts them as a torn tail.
		return l.fail(fmt.Errorf("commitlog: write %s/%s: %w", l.dir, s.name, err))
	}
	if err := l.preallocate(s, pos+h.size, cfg); err != nil {
		return err
	}
	if s.rollBaseMs == noTime {
		s.rollBaseMs = now.UnixMilli()
	}
	s.indexBatch(h, pos, cfg.IndexIntervalBytes)
	s.tail.set(h, pos)
	// Publish size before the log end offset: a reader that sees the new
	// end offset must find the bytes.
	s.size.Store(pos + h.size)
	s.next.Store(h.next)
	l.next.Store(h.next)
	return nil
}

// checkBatch validates that batch is exactly one framed batch continuing
// the log.
func (l *Log) checkBatch(batch []byte, checkCRC bool) (header, error) {
	frame := recordbatch.Frame
	if !checkCRC {
		frame = recordbatch.FrameSkippingCRC
	}
	b, err := frame(batch)
	if err != nil {
		return header{}, fmt.Errorf("%w: %w", ErrBadBatch, err)
	}
	if len(b) != len(batch) {
		return header{}, fmt.Errorf("%w: %d bytes after the batch", ErrBadBatch, len(batch)-len(b))
	}
	h := parseHeader(b)
	if h.next <= h.base {
		return header{}, fmt.Errorf("%w: negative last offset delta", ErrBadBatch)
	}
	if next := l.next.Load(); h.base != next {
		return header{}, fmt.Errorf("%w: base offset %d, log end offset %d", ErrBadBatch, h.base, next)
	}
	return h, nil
}

// shouldRoll reports whether the batch must go to a new segment. An empty
// segment is never rolled: it would only make another empty one.
func (l *Log) shouldRoll(s *segment, h header, now time.Time, cfg *Config) bool {
	size := s.size.Load()
	if size == 0 {
		return false
	}
	switch {
	case size+h.size > cfg.SegmentBytes:
		return true
	case s.rollBaseMs != noTime && now.UnixMilli()-s.rollBaseMs >= cfg.SegmentAge.Milliseconds():
		return true
	case h.next-1-s.base > maxRelOffset:
		// Relative offsets in the indexes are 32 bits.
		return true
	}
	return false
}

const maxRelOffset = 1<<32 - 1

// roll makes a new active segment starting at NextOffset. Requires appendMu.
func (l *Log) roll() (*segment, error) {
	old := l.active
	// Recovery validates only the last segment fully, so a segment must be
	// durable before a later one can exist.
	if err := old.syncTxnIndex(); err != nil {
		return nil, l.fail(fmt.Errorf("commitlog: fsync %s: %w", l.path(old.base, txnIndexSuffix), err))
	}
	trimmed, err := l.trimPreallocated(old)
	if err != nil {
		return nil, err
	}
	if size := old.size.Load(); old.synced.Load() < size || trimmed {
		if err := old.file.Sync(); err != nil {
			return nil, l.fail(fmt.Errorf("commitlog: fsync %s/%s: %w", l.dir, old.name, err))
		}
		old.markSynced(size)
	}
	// The indexes are derived data: if writing them fails recovery rebuilds
	// them, so a failure is only logged.
	if err := l.writeIndexes(old); err != nil {
		l.logger.Warn("commitlog: writing index files", "dir", l.dir, "segment", old.name, "err", err)
	}
	s, err := l.createSegment(l.next.Load())
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.segs = append(l.segs, s)
	l.active = s
	l.mu.Unlock()
	l.dirDirty.Store(true)
	l.logger.Info("commitlog: rolled segment", "dir", l.dir, "segment", s.name, "previousSize", old.size.Load())
	return s, nil
}

// createSegment creates an empty segment file.
func (l *Log) createSegment(base int64) (*segment, error) {
	f, err := l.fsys.Create(l.path(base, logSuffix))
	if err != nil {
		return nil, fmt.Errorf("commitlog: create segment: %w", err)
	}
	return newSegment(base, fileName(base, logSuffix), f), nil
}

// writeIndexes writes s's indexes to their files. Each file is written
// under a temporary name, synced, then renamed, so that a file under the
// final name is always complete; a crash at worst loses it, and recovery
// rebuilds a missing index. Requires the appender role.
func (l *Log) writeIndexes(s *segment) error {
	s.mu.RLock()
	off, ts := s.offIdx, s.timeIdx
	s.mu.RUnlock()
	if err := l.writeIndexFile(l.path(s.base, indexSuffix), off); err != nil {
		return err
	}
	if err := l.writeIndexFile(l.path(s.base, timeIndexSuffix), ts); err != nil {
		return err
	}
	s.indexOnDisk = true
	return nil
}

func (l *Log) writeIndexFile(name string, data []byte) error {
	if err := vfs.ReplaceFile(l.fsys, name, data); err != nil {
		return err
	}
	l.dirDirty.Store(true)
	return nil
}

// Close syncs the log, writes the active segment's index files and closes
// every file. Later calls return ErrClosed.
func (l *Log) Close() error {
	l.closing.Store(true)
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	segs := l.segs
	l.segs = nil
	l.active = nil
	l.mu.Unlock()

	err := l.stickyErr()
	if err == nil {
		for _, s := range segs {
			if !s.indexOnDisk {
				if werr := l.writeIndexes(s); werr != nil {
					l.logger.Warn("commitlog: writing index files", "dir", l.dir, "segment", s.name, "err", werr)
				}
			}
		}
		targets := make([]syncTarget, 0, len(segs))
		for _, s := range segs {
			// A closed log ends with its batches: no preallocated zeros
			// (preallocate.go) are left for the next Open to read.
			trimmed, terr := l.trimPreallocated(s)
			if terr != nil && err == nil {
				err = terr
			}
			if size := s.size.Load(); size > s.synced.Load() || s.txnUnsynced.Load() || trimmed {
				s.ref()
				targets = append(targets, syncTarget{s, size})
			}
		}
		if serr := l.syncSegments(targets, l.dirDirty.Swap(false)); err == nil {
			err = serr
		}
	}
	for _, s := range segs {
		if cerr := s.unref(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}
