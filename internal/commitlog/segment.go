package commitlog

import (
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"

	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// noTime marks an unknown roll time.
const noTime = math.MinInt64

// segment is one .log file with its in-memory indexes.
//
// Bytes below size never change while the segment is in the log's list
// (TruncateTo, the only exception, holds Log.mu exclusively), so readers
// read them without locks.
type segment struct {
	base int64
	name string // file name of the .log, for messages
	file vfs.File

	// refs counts the log's own reference plus Sync's pins; the file is
	// closed when it drops to zero, so a segment deleted by retention is
	// not closed under an fsync in flight.
	refs atomic.Int32

	size   atomic.Int64 // bytes of whole batches
	next   atomic.Int64 // offset after the last batch; base when empty
	synced atomic.Int64 // bytes known durable
	tail   tailHint     // the last batch appended (tailhint.go)

	mu      sync.RWMutex // guards offIdx, timeIdx and the aborted-transaction index
	offIdx  offsetIndex
	timeIdx timeIndex
	// aborted lists the aborted transactions whose markers are in this
	// segment, by marker offset, and txnFile holds them (txnindex.go).
	aborted     []AbortedEntry
	txnFile     vfs.File    // nil until the first entry
	txnUnsynced atomic.Bool // entries written since the file's last fsync

	// Owned by the appender (Log.appendMu, or recovery before Open returns).
	lastIndexedPos int64 // position of the last offset index entry; 0 for none
	maxTS          int64 // largest MaxTimestamp; valid when hasTS
	hasTS          bool
	rollBaseMs     int64 // time the segment's age counts from; noTime if unknown
	indexOnDisk    bool  // the index files on disk match memory
	alloc          int64 // the file's size: size plus preallocated zeros (preallocate.go)
	preallocStep   int64 // the last extension's length
}

func newSegment(base int64, name string, f vfs.File) *segment {
	s := &segment{base: base, name: name, file: f, rollBaseMs: noTime}
	s.refs.Store(1)
	s.next.Store(base)
	return s
}

func (s *segment) ref() { s.refs.Add(1) }

// unref drops a reference and closes the file with the last one.
func (s *segment) unref() error {
	if s.refs.Add(-1) == 0 {
		if s.txnFile != nil {
			s.txnFile.Close()
		}
		return s.file.Close()
	}
	return nil
}

// markSynced records that the first size bytes are durable.
func (s *segment) markSynced(size int64) {
	for {
		cur := s.synced.Load()
		if size <= cur || s.synced.CompareAndSwap(cur, size) {
			return
		}
	}
}

// header is the part of a batch header the log needs.
type header struct {
	base  int64
	next  int64
	size  int64
	maxTS int64
	epoch int32 // partition leader epoch
}

// parseHeader decodes a header from at least recordbatch.HeaderSize bytes.
func parseHeader(b []byte) header {
	batch := recordbatch.Batch(b)
	return header{
		base:  batch.BaseOffset(),
		next:  batch.NextOffset(),
		size:  recordbatch.Size(b),
		maxTS: batch.MaxTimestamp(),
		epoch: batch.LeaderEpoch(),
	}
}

// indexBatch records a batch at pos in the in-memory indexes, following
// the same rule whether the batch is being appended or replayed by
// recovery, so a rebuilt index equals the one that was lost. Requires the
// appender role. The lock is taken only when an entry is added.
func (s *segment) indexBatch(h header, pos int64, interval int) {
	addOffset := pos > 0 && pos-s.lastIndexedPos >= int64(interval)
	addTime := !s.hasTS || h.maxTS > s.maxTS
	if !addOffset && !addTime {
		return
	}
	rel := uint32(h.base - s.base)
	s.mu.Lock()
	if addOffset {
		s.offIdx = s.offIdx.append(rel, pos)
		s.lastIndexedPos = pos
	}
	if addTime {
		s.timeIdx = s.timeIdx.append(h.maxTS, rel)
		s.maxTS, s.hasTS = h.maxTS, true
	}
	s.mu.Unlock()
	s.indexOnDisk = false
}

// resetIndexes forgets the indexes before a rebuild. Requires the appender role.
func (s *segment) resetIndexes() {
	s.mu.Lock()
	s.offIdx, s.timeIdx = nil, nil
	s.mu.Unlock()
	s.lastIndexedPos, s.hasTS, s.maxTS = 0, false, 0
	s.indexOnDisk = false
}

// adoptIndexes installs indexes loaded from disk. Requires the appender role.
func (s *segment) adoptIndexes(off offsetIndex, ts timeIndex) {
	s.mu.Lock()
	s.offIdx, s.timeIdx = off, ts
	s.mu.Unlock()
	s.syncAppenderState()
}

// syncAppenderState derives the appender's copies from the indexes.
func (s *segment) syncAppenderState() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.lastIndexedPos = 0
	if n := s.offIdx.len(); n > 0 {
		_, s.lastIndexedPos = s.offIdx.entry(n - 1)
	}
	s.maxTS, _, s.hasTS = s.timeIdx.last()
}

// lookup returns where to start scanning for offset.
func (s *segment) lookup(offset int64) int64 {
	rel := offset - s.base
	if rel <= 0 {
		return 0
	}
	rel = min(rel, math.MaxUint32)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.offIdx.lookup(uint32(rel))
}

// largestTimestamp returns the segment's largest batch MaxTimestamp.
func (s *segment) largestTimestamp() (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ts, _, ok := s.timeIdx.last()
	return ts, ok
}

// readFull reads exactly len(p) bytes at off.
func readFull(f vfs.File, p []byte, off int64) error {
	n, err := f.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// findBatch scans headers from the indexed position for the first batch
// that ends after offset, i.e. the one containing it or, across a gap,
// the next one. ok is false when no batch below size does. hdr is scratch
// of recordbatch.HeaderSize bytes, reused for every header.
func (s *segment) findBatch(offset, size int64, hdr []byte) (pos int64, h header, ok bool, err error) {
	if pos, h, ok := s.tail.find(offset, size); ok {
		return pos, h, true, nil
	}
	for pos = s.lookup(offset); pos < size; pos += h.size {
		if size-pos < recordbatch.HeaderSize {
			return pos, h, false, corruptAt(s, pos)
		}
		if err := readFull(s.file, hdr, pos); err != nil {
			return pos, h, false, err
		}
		h = parseHeader(hdr)
		if h.size < recordbatch.HeaderSize || h.size > size-pos || h.next <= h.base {
			return pos, h, false, corruptAt(s, pos)
		}
		if h.next > offset {
			return pos, h, true, nil
		}
	}
	return pos, h, false, nil
}

// batchAt reads the batch starting exactly at offset, if it lies wholly
// below maxOffset.
func (s *segment) batchAt(offset, maxOffset int64) ([]byte, error) {
	hdr := make([]byte, recordbatch.HeaderSize)
	pos, h, ok, err := s.findBatch(offset, s.size.Load(), hdr)
	if err != nil || !ok || h.base != offset || h.next > maxOffset {
		return nil, err
	}
	b := make([]byte, h.size)
	if err := readFull(s.file, b, pos); err != nil {
		return nil, err
	}
	return b, nil
}

// corruptAt reports bytes below a segment's size that do not frame as a batch.
func corruptAt(s *segment, pos int64) error {
	return fmt.Errorf("%w: %s at position %d", ErrCorrupt, s.name, pos)
}
