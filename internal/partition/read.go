package partition

import (
	"sluice/internal/commitlog"
	"sluice/internal/recordbatch"
)

// ErrOffsetOutOfRange is returned for a fetch outside [start, HW].
var ErrOffsetOutOfRange = commitlog.ErrOffsetOutOfRange

// ReadResult is a fetch's view of the partition.
type ReadResult struct {
	Records          []byte // whole batches, appended to the caller's buffer
	HighWatermark    int64
	LastStableOffset int64
	LogStart         int64
	// Aborted lists, for a read_committed read, the aborted transactions
	// whose data the records may hold (Kafka's rule: last offset >= the
	// fetch offset, first offset < the end of the records), sorted by
	// first offset.
	Aborted []AbortedTxn
}

// AbortedTxn is an aborted transaction as a fetch reports it.
type AbortedTxn struct {
	ProducerID  int64
	FirstOffset int64
}

// Read appends whole batches starting at the batch that holds offset, up
// to maxBytes (the first batch always whole, KIP-74), stopping at the HW.
// An offset equal to the HW returns no records and no error.
func (p *Partition) Read(offset int64, maxBytes int, dst []byte) (ReadResult, error) {
	return p.read(offset, maxBytes, dst, false)
}

// ReadCommitted is Read at isolation level read_committed: it stops at the
// last stable offset and lists the aborted transactions in what it read.
func (p *Partition) ReadCommitted(offset int64, maxBytes int, dst []byte) (ReadResult, error) {
	return p.read(offset, maxBytes, dst, true)
}

func (p *Partition) read(offset int64, maxBytes int, dst []byte, committed bool) (ReadResult, error) {
	p.hwMu.Lock()
	hw, lso := p.hw, p.lsoLocked()
	p.hwMu.Unlock()
	res := ReadResult{Records: dst, HighWatermark: hw, LastStableOffset: lso, LogStart: p.log.StartOffset()}
	if offset < res.LogStart || offset > hw {
		return res, ErrOffsetOutOfRange
	}
	end := hw
	if committed {
		end = lso
	}
	if offset >= end {
		return res, nil
	}
	recs, err := p.log.Read(offset, end, maxBytes, dst)
	if err != nil {
		return res, err
	}
	res.Records = recs
	if committed && len(recs) > len(dst) {
		res.Aborted = p.abortedIn(offset, nextOffsetOf(recs[len(dst):]))
	}
	return res, nil
}

// nextOffsetOf returns the offset after the last whole batch of recs.
func nextOffsetOf(recs []byte) int64 {
	var next int64
	for len(recs) >= recordbatch.HeaderSize {
		n := recordbatch.Size(recs)
		if n < recordbatch.HeaderSize || n > int64(len(recs)) {
			break
		}
		next = recordbatch.Batch(recs).NextOffset()
		recs = recs[n:]
	}
	return next
}

// OffsetForTimestamp returns the first offset at or above the log start
// whose record timestamp is >= ts, and that timestamp; ok is false when no
// such record is below the HW, or, for a read_committed caller, below the
// last stable offset (ListOffsets then answers -1).
func (p *Partition) OffsetForTimestamp(ts int64, committed bool) (offset, timestamp int64, ok bool, err error) {
	limit := p.readLimit(committed)
	for from := p.log.StartOffset(); ; {
		raw, err := p.log.ReadBatchAtTimestamp(ts, from, limit)
		if err != nil || raw == nil {
			return -1, -1, false, err
		}
		b := recordbatch.Batch(raw)
		err = b.RecordTimestamps(func(o, t int64) bool {
			if o >= from && t >= ts {
				offset, timestamp, ok = o, t, true
				return false
			}
			return true
		})
		if err != nil || ok {
			return offset, timestamp, ok, err
		}
		// The batch holds the log start and only its records below the
		// start qualified: look on after it.
		from = b.NextOffset()
	}
}

// MaxTimestamp returns the offset and timestamp of the first record with
// the largest timestamp below the HW, or the LSO for a read_committed
// caller (ListOffsets -3, KIP-734).
func (p *Partition) MaxTimestamp(committed bool) (offset, timestamp int64, ok bool, err error) {
	raw, err := p.log.BatchWithMaxTimestamp(p.readLimit(committed))
	if err != nil || raw == nil {
		return -1, -1, false, err
	}
	b := recordbatch.Batch(raw)
	max := b.MaxTimestamp()
	err = b.RecordTimestamps(func(o, t int64) bool {
		if t == max {
			offset, timestamp, ok = o, t, true
			return false
		}
		return true
	})
	return offset, timestamp, ok, err
}

// readLimit is the end of what a reader may see: the last stable offset
// at read_committed, else the high watermark.
func (p *Partition) readLimit(committed bool) int64 {
	if committed {
		return p.LastStableOffset()
	}
	return p.HighWatermark()
}
