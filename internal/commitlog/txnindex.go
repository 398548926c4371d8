package commitlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"slices"
)

// The aborted-transaction index: for each segment, the transactions whose
// abort marker lies in it, in marker order, so that a read_committed fetch
// can tell its client which records to skip (KIP-98). Each entry has
// Kafka's .txnindex layout, 34 bytes big-endian:
//
//	version          int16  0
//	producerId       int64
//	firstOffset      int64  the transaction's first offset in this partition
//	lastOffset       int64  the abort marker's offset
//	lastStableOffset int64  the partition's LSO once the marker was appended
//
// Unlike the offset and time indexes, these entries cannot be rebuilt from
// the segment alone (a transaction may start in an earlier segment), so
// the file <base>.txnindex is kept like the log itself: an entry is
// appended when its marker is, and synced by the same Sync that makes the
// marker durable (a marker below the high watermark always has its entry
// on disk). The file is created with a segment's first entry; a segment
// without one had no abort. Recovery drops a torn last entry and entries
// whose marker the log no longer holds; anything else that does not read
// is refused, like a damaged segment.
const (
	txnEntrySize   = 34
	txnIndexSuffix = ".txnindex"
)

// AbortedEntry is one aborted transaction.
type AbortedEntry struct {
	ProducerID       int64
	FirstOffset      int64
	LastOffset       int64
	LastStableOffset int64
}

// AddAborted records an aborted transaction whose marker is at
// e.LastOffset, in the segment holding that offset, and writes it to the
// segment's index file; the next Sync makes it durable. Adding an entry
// for a marker already recorded (a replay after a restart) changes
// nothing. A failed write is sticky, as for an append.
func (l *Log) AddAborted(e AbortedEntry) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.segs) == 0 {
		return ErrClosed
	}
	s := l.segs[l.segmentIndexLocked(e.LastOffset)]
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := slices.BinarySearchFunc(s.aborted, e.LastOffset, byMarker)
	if found {
		return nil
	}
	s.aborted = slices.Insert(s.aborted, i, e)
	if err := l.writeTxnIndexLocked(s, i); err != nil {
		return l.fail(fmt.Errorf("commitlog: write %s: %w", l.path(s.base, txnIndexSuffix), err))
	}
	return nil
}

// writeTxnIndexLocked writes s's entries from index i on to its file,
// creating it with the first entry. Requires s.mu.
func (l *Log) writeTxnIndexLocked(s *segment, i int) error {
	if s.txnFile == nil {
		f, err := l.fsys.Create(l.path(s.base, txnIndexSuffix))
		if err != nil {
			return err
		}
		s.txnFile = f
		l.dirDirty.Store(true)
		i = 0
	}
	data := encodeTxnIndex(s.aborted[i:])
	if _, err := s.txnFile.WriteAt(data, int64(i)*txnEntrySize); err != nil {
		return err
	}
	s.txnUnsynced.Store(true)
	return nil
}

// syncTxnIndex fsyncs s's aborted-transaction index if it has unsynced
// entries.
func (s *segment) syncTxnIndex() error {
	if !s.txnUnsynced.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.txnUnsynced.Swap(false) {
		return nil
	}
	if err := s.txnFile.Sync(); err != nil {
		s.txnUnsynced.Store(true)
		return err
	}
	return nil
}

// truncateTxnIndexLocked drops the entries of markers at or after
// offset. Requires s.mu.
func (l *Log) truncateTxnIndexLocked(s *segment, offset int64) error {
	i, _ := slices.BinarySearchFunc(s.aborted, offset, byMarker)
	if i == len(s.aborted) {
		return nil
	}
	s.aborted = s.aborted[:i]
	if err := s.txnFile.Truncate(int64(i) * txnEntrySize); err != nil {
		return err
	}
	return s.txnFile.Sync()
}

// loadTxnIndex reads s's aborted-transaction index, if it has one, once
// the segment's extent is known. A torn last entry and entries past the
// segment's end (their markers were cut by recovery) are dropped; an entry
// that does not decode is damage.
func (l *Log) loadTxnIndex(s *segment) error {
	name := l.path(s.base, txnIndexSuffix)
	f, err := l.fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("commitlog: %w", err)
	}
	size, err := f.Size()
	if err == nil {
		data := make([]byte, size-size%txnEntrySize)
		if err = readFull(f, data, 0); err == nil {
			s.aborted, err = decodeTxnIndex(data, s.base, s.next.Load())
		}
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("%w: %s: %v; nothing was changed", ErrCorrupt, name, err)
	}
	s.txnFile = f
	if keep := int64(len(s.aborted)) * txnEntrySize; keep != size {
		l.logger.Warn("commitlog: dropping aborted-transaction index entries past the log's end", "file", name, "bytes", size-keep)
		if err := f.Truncate(keep); err != nil {
			return fmt.Errorf("commitlog: %w", err)
		}
		s.txnUnsynced.Store(true)
	}
	return nil
}

func byMarker(e AbortedEntry, marker int64) int {
	switch {
	case e.LastOffset < marker:
		return -1
	case e.LastOffset > marker:
		return 1
	}
	return 0
}

// AbortedTxns returns the aborted transactions that may have records in
// [from, to): last offset >= from and first offset < to, sorted by first
// offset. The search starts at the segment holding from and stops at the
// first entry whose last stable offset reaches to: no later transaction
// can then have begun below to.
func (l *Log) AbortedTxns(from, to int64) []AbortedEntry {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []AbortedEntry
	for i := l.segmentIndexLocked(from); i < len(l.segs); i++ {
		done := l.segs[i].collectAborted(from, to, &out)
		if done {
			break
		}
	}
	slices.SortFunc(out, func(a, b AbortedEntry) int { return int(a.FirstOffset - b.FirstOffset) })
	return out
}

// collectAborted appends s's entries that overlap [from, to) and reports
// whether the search is complete.
func (s *segment) collectAborted(from, to int64, out *[]AbortedEntry) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.aborted {
		if e.LastOffset >= from && e.FirstOffset < to {
			*out = append(*out, e)
		}
		if e.LastStableOffset >= to {
			return true
		}
	}
	return false
}

// encodeTxnIndex returns the file contents of a segment's entries.
func encodeTxnIndex(entries []AbortedEntry) []byte {
	buf := make([]byte, 0, len(entries)*txnEntrySize)
	for _, e := range entries {
		buf = binary.BigEndian.AppendUint16(buf, 0)
		buf = binary.BigEndian.AppendUint64(buf, uint64(e.ProducerID))
		buf = binary.BigEndian.AppendUint64(buf, uint64(e.FirstOffset))
		buf = binary.BigEndian.AppendUint64(buf, uint64(e.LastOffset))
		buf = binary.BigEndian.AppendUint64(buf, uint64(e.LastStableOffset))
	}
	return buf
}

// decodeTxnIndex decodes a .txnindex file of the segment [base, next):
// whole entries of version 0, markers inside the segment and in order.
func decodeTxnIndex(data []byte, base, next int64) ([]AbortedEntry, error) {
	if len(data)%txnEntrySize != 0 {
		return nil, fmt.Errorf("%d bytes, not whole entries", len(data))
	}
	out := make([]AbortedEntry, 0, len(data)/txnEntrySize)
	for b := data; len(b) > 0; b = b[txnEntrySize:] {
		if v := binary.BigEndian.Uint16(b); v != 0 {
			return nil, fmt.Errorf("entry version %d", v)
		}
		e := AbortedEntry{
			ProducerID:       int64(binary.BigEndian.Uint64(b[2:])),
			FirstOffset:      int64(binary.BigEndian.Uint64(b[10:])),
			LastOffset:       int64(binary.BigEndian.Uint64(b[18:])),
			LastStableOffset: int64(binary.BigEndian.Uint64(b[26:])),
		}
		if e.LastOffset >= next {
			break // the marker was cut with a torn tail: so is its entry
		}
		if e.LastOffset < base || e.FirstOffset > e.LastOffset {
			return nil, fmt.Errorf("entry for marker %d outside the segment [%d, %d)", e.LastOffset, base, next)
		}
		if n := len(out); n > 0 && out[n-1].LastOffset >= e.LastOffset {
			return nil, fmt.Errorf("entries out of order at marker %d", e.LastOffset)
		}
		out = append(out, e)
	}
	return out, nil
}
