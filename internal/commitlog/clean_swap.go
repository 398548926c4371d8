package commitlog

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"sluice/internal/recordbatch"
)

// The swap protocol. A cleaning replaces a group of consecutive segments
// [base, end) by one new segment with the first one's base:
//
//  1. write the new segment to <base>.<end>.cleaned and fsync it;
//  2. rename it to <base>.<end>.swap and fsync the directory: the commit
//     point;
//  3. under Log.mu, put the new segment in the list in place of the old
//     ones (readers hold Log.mu shared, so none is inside an old segment);
//  4. delete the old segments' files, fsync the directory, rename the swap
//     file to <base>.log, fsync the directory; then write its index files.
//
// Recovery (listSegments) deletes a .cleaned file, since its cleaning did
// not commit, and completes a .swap file: it deletes every segment file
// whose base lies in [base, end) and renames the swap file to <base>.log.
// So a crash at any step leaves the old segments or the new one, never a
// mix. The end offset is in the name because the new segment can end
// below the old group's end (its last batches may all be gone), and a
// segment of the group starting there must still be recognized as old.
const (
	cleanedSuffix = ".cleaned"
	swapSuffix    = ".swap"
)

func (l *Log) swapPath(base, end int64, suffix string) string {
	return filepath.Join(l.dir, fmt.Sprintf("%020d.%020d%s", base, end, suffix))
}

// parseSwapName parses <base>.<end>.cleaned or <base>.<end>.swap.
func parseSwapName(name string) (base, end int64, suffix string, ok bool) {
	base, rest, ok := parseName(name)
	if !ok || len(rest) != 1+baseDigits+len(filepath.Ext(name)) {
		return 0, 0, "", false
	}
	suffix = filepath.Ext(name)
	if suffix != cleanedSuffix && suffix != swapSuffix {
		return 0, 0, "", false
	}
	end, err := strconv.ParseInt(rest[1:1+baseDigits], 10, 64)
	if err != nil || strings.ContainsAny(rest[1:1+baseDigits], "+-") || end <= base {
		return 0, 0, "", false
	}
	return base, end, suffix, true
}

// cleanGroup rewrites the segments of g into one and swaps it in. A
// group of one segment that loses nothing is left as it is.
func (c *cleaning) cleanGroup(g []*segment, res *CleanResult) error {
	sizes := make([]int64, len(g))
	for i, s := range g {
		sizes[i] = s.size.Load()
	}
	w, err := c.l.createCleaned(g[0].base, g[len(g)-1].next.Load(), c.throttle)
	if err != nil {
		return err
	}
	changed, dropped, err := c.rewrite(g, w)
	if err == nil {
		err = w.finish()
	}
	if err != nil || !changed {
		w.discard()
		return err
	}
	if err := c.l.commitSwap(g, sizes, w); err != nil {
		return err
	}
	res.Groups++
	res.SegmentsBefore += len(g)
	res.RecordsDropped += dropped
	for _, size := range sizes {
		res.BytesBefore += size
	}
	res.BytesAfter += w.pos
	return nil
}

// rewrite filters every batch of g into w.
func (c *cleaning) rewrite(g []*segment, w *cleanedWriter) (changed bool, dropped int64, err error) {
	changed = len(g) > 1
	var scratch []byte
	for _, s := range g {
		err := c.eachBatch(s, func(b recordbatch.Batch) error {
			out, d, ch, err := c.filterBatch(scratch[:0], b)
			if err != nil {
				return err
			}
			scratch = out
			changed, dropped = changed || ch, dropped+d
			if len(out) == 0 {
				return nil
			}
			return w.add(out)
		})
		if err != nil {
			return false, 0, err
		}
	}
	return changed, dropped, nil
}

// cleanedWriter writes a new segment to its .cleaned file, indexing each
// batch as Append does.
type cleanedWriter struct {
	l        *Log
	s        *segment
	path     string
	end      int64 // end offset of the group it replaces
	buf      []byte
	pos      int64 // bytes added, buffered or not
	interval int
	throttle func(int) error
}

const cleanedBufferSize = 256 << 10

func (l *Log) createCleaned(base, end int64, throttle func(int) error) (*cleanedWriter, error) {
	path := l.swapPath(base, end, cleanedSuffix)
	f, err := l.fsys.Create(path)
	if err != nil {
		return nil, fmt.Errorf("commitlog: create %s: %w", path, err)
	}
	return &cleanedWriter{l: l, s: newSegment(base, fileName(base, logSuffix), f), path: path, end: end,
		interval: l.cfg.Load().IndexIntervalBytes, throttle: throttle}, nil
}

func (w *cleanedWriter) add(batch []byte) error {
	h := parseHeader(batch)
	w.s.indexBatch(h, w.pos, w.interval)
	w.buf = append(w.buf, batch...)
	w.pos += h.size
	w.s.next.Store(h.next)
	if len(w.buf) >= cleanedBufferSize {
		return w.flush()
	}
	return nil
}

func (w *cleanedWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.s.file.Write(w.buf); err != nil {
		return fmt.Errorf("commitlog: write %s: %w", w.path, err)
	}
	n := len(w.buf)
	w.buf = w.buf[:0]
	return w.throttle(n)
}

// finish writes what is buffered and makes the file durable.
func (w *cleanedWriter) finish() error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.s.file.Sync(); err != nil {
		return fmt.Errorf("commitlog: fsync %s: %w", w.path, err)
	}
	w.s.size.Store(w.pos)
	w.s.alloc = w.pos
	w.s.synced.Store(w.pos)
	return nil
}

// discard closes and deletes an uncommitted .cleaned file. A failure only
// leaves a file that recovery deletes.
func (w *cleanedWriter) discard() {
	w.s.unref()
	if err := w.l.fsys.Remove(w.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		w.l.logger.Warn("commitlog: removing cleaned file", "file", w.path, "err", err)
	}
}

// commitSwap runs steps 2-4 of the swap protocol. swapMu keeps retention,
// DeleteBefore and TruncateTo away from the moment the old segments are
// found unchanged until they are gone. A failure before the commit point
// leaves the old segments in use; after it, the files and the memory may
// disagree until recovery completes the swap, so it is sticky.
func (l *Log) commitSwap(g []*segment, sizes []int64, w *cleanedWriter) error {
	l.swapMu.Lock()
	defer l.swapMu.Unlock()
	if !l.stillHolds(g, sizes) {
		w.discard()
		return errCleanAborted
	}
	swap := l.swapPath(g[0].base, w.end, swapSuffix)
	if err := l.fsys.Rename(w.path, swap); err != nil {
		w.discard()
		return fmt.Errorf("commitlog: rename %s: %w", w.path, err)
	}
	if err := l.fsys.SyncDir(l.dir); err != nil {
		w.s.unref()
		return l.fail(fmt.Errorf("commitlog: fsync dir %s: %w", l.dir, err))
	}
	l.replaceSegments(g, w.s)
	if err := l.finishSwap(g, swap); err != nil {
		return l.fail(err)
	}
	l.logger.Debug("commitlog: swapped in cleaned segment", "dir", l.dir, "segment", w.s.name,
		"end", w.end, "replaced", len(g), "bytes", w.pos)
	if err := l.writeIndexes(w.s); err != nil {
		l.logger.Warn("commitlog: writing index files", "dir", l.dir, "segment", w.s.name, "err", err)
	}
	return nil
}

// stillHolds reports whether g is still a run of the log's segments with
// the given sizes, none of them active.
func (l *Log) stillHolds(g []*segment, sizes []int64) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return false
	}
	i := 0
	for i < len(l.segs) && l.segs[i] != g[0] {
		i++
	}
	if i+len(g) > len(l.segs) {
		return false
	}
	for k, s := range g {
		if l.segs[i+k] != s || s == l.active || s.size.Load() != sizes[k] {
			return false
		}
	}
	return true
}

// replaceSegments puts s in place of the run g. Requires swapMu.
func (l *Log) replaceSegments(g []*segment, s *segment) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := 0
	for l.segs[i] != g[0] {
		i++
	}
	segs := make([]*segment, 0, len(l.segs)-len(g)+1)
	segs = append(segs, l.segs[:i]...)
	segs = append(segs, s)
	l.segs = append(segs, l.segs[i+len(g):]...)
}

// finishSwap deletes the old segments' files and renames the swap file to
// the new segment's name (step 4).
func (l *Log) finishSwap(old []*segment, swap string) error {
	if err := l.removeSegments(old); err != nil {
		return err
	}
	return l.renameSwap(swap, old[0].base)
}

func (l *Log) renameSwap(swap string, base int64) error {
	// Sync the deletions first, so that no file system can keep the old
	// segment's index files beside the new segment's data.
	if err := l.fsys.SyncDir(l.dir); err != nil {
		return fmt.Errorf("commitlog: fsync dir %s: %w", l.dir, err)
	}
	if err := l.fsys.Rename(swap, l.path(base, logSuffix)); err != nil {
		return fmt.Errorf("commitlog: rename %s: %w", swap, err)
	}
	if err := l.fsys.SyncDir(l.dir); err != nil {
		return fmt.Errorf("commitlog: fsync dir %s: %w", l.dir, err)
	}
	return nil
}

// recoverSwaps handles what an interrupted cleaning left in the directory:
// .cleaned files are deleted, .swap files completed. It reports whether
// it changed anything.
func (l *Log) recoverSwaps(names []string) (bool, error) {
	changed := false
	for _, name := range names {
		base, end, suffix, ok := parseSwapName(name)
		if !ok {
			continue
		}
		changed = true
		if suffix == cleanedSuffix {
			l.removeLeftover(name) // the cleaning had not committed
			continue
		}
		l.logger.Warn("commitlog: completing an interrupted cleaning", "dir", l.dir, "file", name)
		if err := l.completeSwap(names, base, end, filepath.Join(l.dir, name)); err != nil {
			return true, err
		}
	}
	return changed, nil
}

// completeSwap deletes every segment file with a base in [base, end) and
// renames the swap file to <base>.log.
func (l *Log) completeSwap(names []string, base, end int64, swap string) error {
	for _, name := range names {
		b, suffix, ok := parseName(name)
		if !ok || b < base || b >= end || (suffix != logSuffix && suffix != indexSuffix && suffix != timeIndexSuffix && suffix != txnIndexSuffix) {
			continue
		}
		if err := l.fsys.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("commitlog: completing swap: %w", err)
		}
	}
	return l.renameSwap(swap, base)
}

// The cleaner checkpoint: the offset below which the log was cleaned, in
// cleaner.checkpoint beside the segments (see checkpoint.go). Losing it
// costs only a cleaning that finds nothing to drop in the clean range; a
// checkpoint behind the truth is always safe, because cleaning is
// idempotent.
const cleanerCheckpointFile = "cleaner.checkpoint"

func (l *Log) writeCleanerCheckpoint(offset int64) error {
	if err := l.writeOffsetCheckpoint(cleanerCheckpointFile, offset); err != nil {
		return err
	}
	l.cleanedTo.Store(offset)
	return nil
}

// loadCleanerCheckpoint reads the checkpoint; a missing or damaged one
// counts as 0 (everything dirty).
func (l *Log) loadCleanerCheckpoint() {
	offset, found, err := l.readOffsetCheckpoint(cleanerCheckpointFile)
	if err != nil {
		l.logger.Warn("commitlog: ignoring damaged cleaner checkpoint", "dir", l.dir, "err", err)
		return
	}
	if found {
		l.cleanedTo.Store(offset)
	}
}
