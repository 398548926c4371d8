package partition

import (
	"sluice/internal/commitlog"
	"sluice/internal/recordbatch"
)

// ErrOffsetOutOfRange is returned for a fetch outside [start, HW].
var ErrOffsetOutOfRange = commitlog.ErrOffsetOutOfRange

// ReadResult is a fetch's view of the partition.
type ReadResult struct {
	Records       []byte // whole batches, appended to the caller's buffer
	HighWatermark int64
	LogStart      int64
}

// Read appends whole batches starting at the batch that holds offset, up
// to maxBytes (the first batch always whole, KIP-74), stopping at the HW.
// An offset equal to the HW returns no records and no error.
func (p *Partition) Read(offset int64, maxBytes int, dst []byte) (ReadResult, error) {
	hw := p.HighWatermark()
	res := ReadResult{Records: dst, HighWatermark: hw, LogStart: p.log.StartOffset()}
	if offset < res.LogStart || offset > hw {
		return res, ErrOffsetOutOfRange
	}
	if offset == hw {
		return res, nil
	}
	recs, err := p.log.Read(offset, hw, maxBytes, dst)
	if err != nil {
		return res, err
	}
	res.Records = recs
	return res, nil
}

// OffsetForTimestamp returns the first offset whose record timestamp is
// >= ts, and that timestamp; ok is false when no such record is below the
// HW (ListOffsets then answers -1).
func (p *Partition) OffsetForTimestamp(ts int64) (offset, timestamp int64, ok bool, err error) {
	hw := p.HighWatermark()
	raw, err := p.log.ReadBatchAtTimestamp(ts, hw)
	if err != nil || raw == nil {
		return -1, -1, false, err
	}
	err = recordbatch.Batch(raw).RecordTimestamps(func(o, t int64) bool {
		if t >= ts {
			offset, timestamp, ok = o, t, true
			return false
		}
		return true
	})
	return offset, timestamp, ok, err
}

// MaxTimestamp returns the offset and timestamp of the first record with
// the largest timestamp below the HW (ListOffsets -3, KIP-734).
func (p *Partition) MaxTimestamp() (offset, timestamp int64, ok bool, err error) {
	raw, err := p.log.BatchWithMaxTimestamp(p.HighWatermark())
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
