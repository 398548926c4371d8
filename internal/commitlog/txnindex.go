package commitlog

import (
	"encoding/binary"
	"fmt"
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
// Entries are appended in memory as markers are and written with the
// segment's other index files (at roll and at close). Unlike those, they
// cannot be rebuilt from the segment alone (a transaction may start in an
// earlier segment), so the partition rebuilds what a crash lost by
// replaying producer state: a segment whose file is missing or damaged
// makes TxnIndexComplete false, and the partition then replays the whole
// log.
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
// e.LastOffset, in the segment holding that offset. Adding an entry for a
// marker already recorded (a replay after a restart) changes nothing.
func (l *Log) AddAborted(e AbortedEntry) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.segs) == 0 {
		return
	}
	s := l.segs[l.segmentIndexLocked(e.LastOffset)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, found := slices.BinarySearchFunc(s.aborted, e.LastOffset, byMarker); !found {
		s.aborted = slices.Insert(s.aborted, i, e)
		s.txnIndexOnDisk = false
	}
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
		if e.LastOffset < base || e.LastOffset >= next || e.FirstOffset > e.LastOffset {
			return nil, fmt.Errorf("entry for marker %d outside the segment [%d, %d)", e.LastOffset, base, next)
		}
		if n := len(out); n > 0 && out[n-1].LastOffset >= e.LastOffset {
			return nil, fmt.Errorf("entries out of order at marker %d", e.LastOffset)
		}
		out = append(out, e)
	}
	return out, nil
}
