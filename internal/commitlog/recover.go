package commitlog

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// Open opens the log in dir, creating dir if missing, and recovers it:
// index files that cannot be trusted are rebuilt, and the last segment is
// validated batch by batch.
//
// What recovery may cut is only what a crash can have left unfinished:
// the bytes after the last fsync, which all lie at the end of the last
// segment (a segment is synced before the next one is created). So the
// last segment is cut at the first batch that fails, unless
// cfg.CleanShutdown says that everything was synced; a segment before the
// last that does not read, or a last segment that does not read after a
// clean shutdown, is damage: Open refuses with ErrCorrupt naming the file,
// the position and the reason, and changes nothing. The log start offset
// is the larger of the first segment's base and the log start checkpoint
// (logstart.go), which is refused when damaged or past the log end.
func Open(fsys vfs.FS, dir string, cfg Config) (*Log, error) {
	cfg = cfg.withDefaults()
	l := &Log{fsys: fsys, dir: dir, logger: cfg.Logger, epochs: newEpochCache()}
	l.cfg.Store(&cfg)
	if err := l.ensureDir(); err != nil {
		return nil, err
	}
	start, err := l.readLogStart()
	if err != nil {
		return nil, err
	}
	err = l.recover()
	if err == nil {
		err = l.applyLogStart(start)
	}
	if err == nil {
		err = l.loadEpochs() // once the log's start and end are settled
	}
	if err != nil {
		for _, s := range l.segs {
			s.unref()
		}
		return nil, err
	}
	l.loadCleanerCheckpoint()
	return l, nil
}

// ensureDir creates the directory, making its entry durable.
func (l *Log) ensureDir() error {
	_, isDir, err := l.fsys.Stat(l.dir)
	switch {
	case err == nil && !isDir:
		return fmt.Errorf("commitlog: %s is not a directory", l.dir)
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("commitlog: %w", err)
	}
	if err := l.fsys.MkdirAll(l.dir); err != nil {
		return fmt.Errorf("commitlog: %w", err)
	}
	if err := l.fsys.SyncDir(filepath.Dir(l.dir)); err != nil {
		return fmt.Errorf("commitlog: %w", err)
	}
	return nil
}

// recover loads the segments of the directory into l.
func (l *Log) recover() error {
	bases, err := l.listSegments()
	if err != nil {
		return err
	}
	var buf []byte // scratch for whole batches, reused across segments
	for i, base := range bases {
		s, err := l.openSegment(base)
		if err != nil {
			return err
		}
		last := i == len(bases)-1
		if last {
			buf, err = l.recoverTail(s, buf)
		} else {
			buf, err = l.loadSegment(s, buf)
		}
		if err != nil {
			s.unref()
			return err
		}
		if !last && s.size.Load() == 0 {
			// An empty segment before the last holds nothing and would
			// only confuse offset lookups.
			l.logger.Warn("commitlog: removing empty segment", "dir", l.dir, "segment", s.name)
			if err := l.removeSegments([]*segment{s}); err != nil {
				return err
			}
			l.dirDirty.Store(true)
			continue
		}
		if err := l.checkContinuity(s); err != nil {
			s.unref()
			return err
		}
		if err := l.loadTxnIndex(s); err != nil {
			s.unref()
			return err
		}
		l.segs = append(l.segs, s)
	}
	if len(l.segs) == 0 {
		s, err := l.createSegment(0)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
		l.dirDirty.Store(true)
	}
	l.active = l.segs[len(l.segs)-1]
	l.start.Store(l.segs[0].base) // applyLogStart may raise it
	l.next.Store(l.active.next.Load())
	// What recovery read may have come from the page cache of a process
	// that crashed before fsync: make it durable so SyncedOffset is honest.
	// After a clean shutdown it was synced before the marker was written.
	if dirty := l.dirDirty.Swap(false); dirty || !l.cfg.Load().CleanShutdown {
		if err := l.syncSegments([]syncTarget{l.pin(l.active)}, dirty); err != nil {
			return err
		}
	}
	l.synced.Store(l.next.Load())
	return nil
}

func (l *Log) pin(s *segment) syncTarget {
	s.ref()
	return syncTarget{s, s.size.Load()}
}

// listSegments returns the base offsets of the directory's segments in
// order, removing leftovers that are not part of any segment.
func (l *Log) listSegments() ([]int64, error) {
	names, err := l.fsys.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("commitlog: %w", err)
	}
	if changed, err := l.recoverSwaps(names); err != nil || changed {
		if err != nil {
			return nil, err
		}
		return l.listSegments() // list again what the swaps left
	}
	logs := map[int64]bool{}
	var bases []int64
	var indexes []string
	for _, name := range names {
		base, suffix, ok := parseName(name)
		switch {
		case filepath.Ext(name) == tmpSuffix:
			// An index file whose writing was interrupted.
			l.removeLeftover(name)
		case !ok && filepath.Ext(name) == logSuffix:
			l.logger.Warn("commitlog: ignoring segment file with unparsable name", "dir", l.dir, "file", name)
		case ok && suffix == logSuffix:
			logs[base] = true
			bases = append(bases, base)
		case ok && (suffix == indexSuffix || suffix == timeIndexSuffix || suffix == txnIndexSuffix):
			indexes = append(indexes, name)
		}
	}
	for _, name := range indexes {
		if base, _, _ := parseName(name); !logs[base] {
			// Left by a deletion interrupted between the .log and its indexes.
			l.removeLeftover(name)
		}
	}
	slices.Sort(bases)
	return bases, nil
}

func (l *Log) removeLeftover(name string) {
	l.logger.Info("commitlog: removing leftover file", "dir", l.dir, "file", name)
	if err := l.fsys.Remove(filepath.Join(l.dir, name)); err != nil {
		l.logger.Warn("commitlog: removing leftover file", "dir", l.dir, "file", name, "err", err)
	}
	l.dirDirty.Store(true)
}

// openSegment opens a segment file. Its size is not trusted until the
// segment is loaded or recovered.
func (l *Log) openSegment(base int64) (*segment, error) {
	f, err := l.fsys.Open(l.path(base, logSuffix))
	if err != nil {
		return nil, fmt.Errorf("commitlog: open segment: %w", err)
	}
	return newSegment(base, fileName(base, logSuffix), f), nil
}

// checkContinuity compares s with the segment before it. Overlapping
// segments would make offsets ambiguous; a gap is served like a compacted
// range (a read inside it gets the next batch).
func (l *Log) checkContinuity(s *segment) error {
	if len(l.segs) == 0 {
		return nil
	}
	prev := l.segs[len(l.segs)-1]
	switch end := prev.next.Load(); {
	case end > s.base:
		return fmt.Errorf("%w: %s ends at offset %d, after %s begins", ErrCorrupt, prev.name, end, s.name)
	case end < s.base:
		l.logger.Warn("commitlog: gap between segments", "dir", l.dir, "segment", prev.name,
			"endOffset", end, "nextSegment", s.name)
	}
	return nil
}

// recoverTail validates every batch of s and cuts the file at the first
// one that fails, rebuilding the indexes on the way.
//
// Dropping the bytes from the first bad batch on is safe: a batch is
// acknowledged only after an fsync that covered it, and fsync covers a
// prefix of the appends, so an acknowledged batch is whole and followed
// only by whole acknowledged batches or by bytes that were never
// acknowledged. Serving them instead would hand consumers a corrupt batch.
func (l *Log) recoverTail(s *segment, buf []byte) ([]byte, error) {
	fileSize, err := s.file.Size()
	if err != nil {
		return buf, fmt.Errorf("commitlog: %w", err)
	}
	s.resetIndexes()
	w := walker{s: s, end: fileSize, verify: true, build: true,
		interval: l.cfg.Load().IndexIntervalBytes, buf: buf}
	pos, next, reason, err := w.walk(0, s.base)
	if err != nil {
		return w.buf, err
	}
	zeroed := false
	if reason != nil {
		// Preallocated space (preallocate.go), which no batch can be.
		if zeroed, err = zeroTail(s, pos, fileSize); err != nil {
			return w.buf, fmt.Errorf("commitlog: reading %s: %w", s.name, err)
		}
	}
	if reason != nil && !zeroed && l.cfg.Load().CleanShutdown {
		return w.buf, l.damaged(s, pos, next, reason)
	}
	if zeroed {
		if err := s.file.Truncate(pos); err != nil {
			return w.buf, fmt.Errorf("commitlog: truncate preallocated space of %s: %w", s.name, err)
		}
		if err := s.file.Sync(); err != nil {
			return w.buf, fmt.Errorf("commitlog: truncate preallocated space of %s: %w", s.name, err)
		}
		l.logger.Info("commitlog: dropped preallocated space after the last batch", "dir", l.dir, "segment", s.name,
			"offset", next, "position", pos, "zeroBytes", fileSize-pos)
	} else if reason != nil {
		if err := s.file.Truncate(pos); err != nil {
			return w.buf, fmt.Errorf("commitlog: truncate torn tail of %s: %w", s.name, err)
		}
		if err := s.file.Sync(); err != nil {
			return w.buf, fmt.Errorf("commitlog: truncate torn tail of %s: %w", s.name, err)
		}
		l.logger.Warn("commitlog: truncated torn tail", "dir", l.dir, "segment", s.name,
			"offset", next, "position", pos, "droppedBytes", fileSize-pos, "reason", reason.Error())
	}
	s.size.Store(pos)
	s.alloc = pos
	s.next.Store(next)
	s.synced.Store(pos)
	return w.buf, nil
}

// loadSegment loads a segment before the last. Its index files are
// trusted when well formed and consistent with the log, which is checked
// by walking the batch headers after the last offset index entry; anything
// else rebuilds them. A segment whose headers do not hold up is damage,
// refused: it was synced before the next segment was created, so no crash
// can have torn it.
func (l *Log) loadSegment(s *segment, buf []byte) ([]byte, error) {
	fileSize, err := s.file.Size()
	if err != nil {
		return buf, fmt.Errorf("commitlog: %w", err)
	}
	if fileSize == 0 {
		return buf, nil
	}
	off, offErr := l.readIndexFile(s.base, indexSuffix)
	if offErr == nil {
		offErr = offsetIndex(off).check(fileSize)
	}
	if offErr == nil {
		var loaded bool
		if buf, loaded, offErr = l.loadWithIndexes(s, off, fileSize, buf); loaded {
			return buf, offErr
		}
	}
	l.logger.Info("commitlog: rebuilding index", "dir", l.dir, "segment", s.name, "reason", offErr.Error())
	s.resetIndexes()
	w := walker{s: s, end: fileSize, build: true, gaps: true, interval: l.cfg.Load().IndexIntervalBytes, buf: buf}
	pos, next, reason, err := w.walk(0, s.base)
	buf = w.buf
	if err != nil {
		return buf, err
	}
	if reason != nil {
		return buf, l.damaged(s, pos, next, reason)
	}
	s.size.Store(pos)
	s.alloc = fileSize
	s.next.Store(next)
	s.synced.Store(pos)
	if err := l.writeIndexes(s); err != nil {
		l.logger.Warn("commitlog: writing index files", "dir", l.dir, "segment", s.name, "err", err)
	}
	return buf, nil
}

// loadWithIndexes trusts a segment's index files when the batch headers
// after the last offset index entry walk cleanly to the end of the file
// and the time index fits. loaded reports success; otherwise err says why
// the indexes must be rebuilt (a failed read is returned with loaded set).
func (l *Log) loadWithIndexes(s *segment, off []byte, fileSize int64, buf []byte) (_ []byte, loaded bool, err error) {
	s.adoptIndexes(offsetIndex(off), nil)
	tail := walker{s: s, end: fileSize, buf: buf, gaps: true}
	var rel uint32
	if n := s.offsetEntries(); n > 0 {
		rel, _ = s.offIdx.entry(n - 1)
	}
	pos, next, reason, err := tail.walk(s.lastIndexedPos, s.base+int64(rel))
	if err != nil {
		return tail.buf, true, err
	}
	if reason != nil {
		return tail.buf, false, fmt.Errorf("offset index disagrees with the log at byte %d: %v", pos, reason)
	}
	ts, err := l.readIndexFile(s.base, timeIndexSuffix)
	if err == nil {
		err = timeIndex(ts).check(next - s.base)
	}
	if err != nil {
		return tail.buf, false, fmt.Errorf("time index: %w", err)
	}
	s.adoptIndexes(offsetIndex(off), timeIndex(ts))
	s.size.Store(pos)
	s.alloc = fileSize
	s.next.Store(next)
	s.synced.Store(pos)
	s.indexOnDisk = true
	return tail.buf, true, nil
}

// damaged reports bytes that were synced, and so acknowledged, but no
// longer read as batches. Nothing is cut: the operator decides.
func (l *Log) damaged(s *segment, pos, offset int64, reason error) error {
	return fmt.Errorf("%w: %s at byte %d (offset %d): %v; it was synced before, so it is not a torn write, and nothing was changed",
		ErrCorrupt, filepath.Join(l.dir, s.name), pos, offset, reason)
}

func (s *segment) offsetEntries() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.offIdx.len()
}

// readIndexFile reads a whole index file.
func (l *Log) readIndexFile(base int64, suffix string) ([]byte, error) {
	f, err := l.fsys.Open(l.path(base, suffix))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	data := make([]byte, size)
	if err := readFull(f, data, 0); err != nil {
		return nil, err
	}
	return data, nil
}

// walker walks the batches of a segment from a position, reading the file
// through a window so that a walk costs one ReadAt per window, not per
// batch.
type walker struct {
	s      *segment
	end    int64 // file size
	verify bool  // read each batch whole and check it with recordbatch.Frame
	// gaps allows a batch to start past where the previous one ended:
	// the cleaner removes batches from segments below the active one. The
	// last segment was active when the log stopped and has none, so a gap
	// there is damage (the base offset is outside the CRC).
	gaps     bool
	build    bool // record each batch in the in-memory indexes
	interval int

	buf    []byte // window of the file
	bufPos int64  // file position of buf[0]
}

const windowSize = 256 << 10

// walk walks from pos, where a batch starting at offset next is expected,
// to the end of the file. It returns where it stopped and the offset
// expected there, and why it stopped early (nil at a clean end). A failed
// read is not a reason to cut anything: it is returned as err.
func (w *walker) walk(pos, next int64) (stopPos, stopNext int64, reason, err error) {
	stopPos, stopNext, reason = w.walkBatches(pos, next)
	var ioErr readError
	if errors.As(reason, &ioErr) {
		return stopPos, stopNext, nil, fmt.Errorf("commitlog: reading %s: %w", w.s.name, ioErr.err)
	}
	return stopPos, stopNext, reason, nil
}

// readError marks a failed ReadAt during a walk.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }

func (w *walker) walkBatches(pos, next int64) (int64, int64, error) {
	w.buf = w.buf[:0]
	for pos < w.end {
		if w.end-pos < recordbatch.HeaderSize {
			return pos, next, fmt.Errorf("%w: %d bytes at the end", recordbatch.ErrShort, w.end-pos)
		}
		hb, err := w.bytes(pos, recordbatch.HeaderSize)
		if err != nil {
			return pos, next, err
		}
		h := parseHeader(hb)
		if h.size < recordbatch.HeaderSize {
			return pos, next, fmt.Errorf("%w: %d", recordbatch.ErrLength, h.size)
		}
		if h.size > w.end-pos {
			return pos, next, recordbatch.ErrTruncated
		}
		if w.verify {
			b, err := w.bytes(pos, h.size)
			if err != nil {
				return pos, next, err
			}
			if _, err := recordbatch.Frame(b); err != nil {
				return pos, next, err
			}
		} else if magic := recordbatch.Batch(hb).Magic(); magic != 2 {
			return pos, next, fmt.Errorf("%w: %d", recordbatch.ErrMagic, magic)
		}
		switch {
		case h.base != next && !(w.gaps && h.base > next):
			return pos, next, fmt.Errorf("base offset %d, want %d", h.base, next)
		case h.next <= h.base:
			return pos, next, fmt.Errorf("negative last offset delta at offset %d", h.base)
		case h.next-1-w.s.base > maxRelOffset:
			return pos, next, fmt.Errorf("offset %d too far from segment base", h.next-1)
		}
		if w.build {
			w.s.indexBatch(h, pos, w.interval)
			if pos == 0 && h.maxTS >= 0 {
				// Like Kafka, age a recovered segment from its first batch's
				// timestamp, so frequent restarts do not keep it from rolling.
				w.s.rollBaseMs = h.maxTS
			}
		}
		pos, next = pos+h.size, h.next
	}
	return pos, next, nil
}

// bytes returns the n bytes at pos, valid until the next call. The caller
// has checked that pos+n is within the file.
func (w *walker) bytes(pos, n int64) ([]byte, error) {
	if pos >= w.bufPos && pos+n <= w.bufPos+int64(len(w.buf)) {
		return w.buf[pos-w.bufPos : pos-w.bufPos+n], nil
	}
	size := min(max(n, windowSize), w.end-pos)
	w.buf = slices.Grow(w.buf[:0], int(size))[:size]
	w.bufPos = pos
	if err := readFull(w.s.file, w.buf, pos); err != nil {
		w.buf = w.buf[:0]
		return nil, readError{err}
	}
	return w.buf[:n], nil
}
