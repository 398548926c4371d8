package partition

import "fmt"

// DeleteRecordsToHighWatermark is the offset DeleteRecords reads as the
// high watermark (KIP-107).
const DeleteRecordsToHighWatermark = -1

// DeleteRecords moves the log start offset up to offset (KIP-107),
// durably, and returns the log start offset after the call: Kafka's low
// watermark, the smallest log start of the replicas, of which there is
// one. DeleteRecordsToHighWatermark means the high watermark. An offset
// below it or above the HW is ErrOffsetOutOfRange; one at or below the
// current start changes nothing. Reads below the new start get
// ErrOffsetOutOfRange and the segments wholly below it are deleted (see
// commitlog.Log.AdvanceStart for the order of the durable steps).
//
// Producer state is kept, as Kafka keeps it: a producer whose batches are
// all below the start is remembered until it expires, and a transaction
// that began below the start stays open, holding the last stable offset
// at the start rather than below it. Long polls are woken, so that a
// fetch waiting below the new start is answered OFFSET_OUT_OF_RANGE now.
func (p *Partition) DeleteRecords(offset int64) (int64, error) {
	hw := p.HighWatermark()
	if offset == DeleteRecordsToHighWatermark {
		offset = hw
	}
	if offset < 0 || offset > hw {
		return p.StartOffset(), fmt.Errorf("%w: delete records before %d, high watermark %d", ErrOffsetOutOfRange, offset, hw)
	}
	start, err := p.log.AdvanceStart(offset)
	if err != nil {
		return start, err
	}
	p.hwMu.Lock()
	p.notifyLocked()
	p.hwMu.Unlock()
	return start, nil
}
