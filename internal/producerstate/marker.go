package producerstate

import "github.com/twmb/franz-go/pkg/kerr"

// Marker is a transaction marker (a control batch) written to the
// partition by the transaction coordinator: it ends the producer's open
// transaction here, committed or aborted.
type Marker struct {
	ProducerID       int64
	Epoch            int16
	Offset           int64 // the control batch's offset
	Commit           bool
	CoordinatorEpoch int32
	Timestamp        int64
}

// Completed is a transaction a marker ended, as the aborted-transaction
// index needs it.
type Completed struct {
	ProducerID  int64
	FirstOffset int64 // the transaction's first offset in this partition
	LastOffset  int64 // the marker's offset
	Aborted     bool
}

// CheckMarker decides whether a marker may be appended: a marker of an
// older epoch than the producer's is a zombie coordinator's or a stale
// retry (Kafka's ProducerAppendInfo.checkProducerEpoch for control
// batches).
func (s *State) CheckMarker(m Marker) int16 {
	if e := s.producers[m.ProducerID]; e != nil && m.Epoch < e.epoch {
		return kerr.InvalidProducerEpoch.Code
	}
	return 0
}

// ApplyMarker records an appended marker: the producer's open transaction
// ends, and the marker's epoch becomes the producer's (a coordinator that
// bumped the epoch to fence it, or transactions v2, which bump with every
// end). It returns the transaction it ended, if one was open here.
func (s *State) ApplyMarker(m Marker) (Completed, bool) {
	e := s.entryFor(m.ProducerID, m.Epoch)
	if m.Epoch != e.epoch {
		// A new epoch starts a fresh history, as for a batch: the old
		// epoch's batches can no longer be retried.
		e.epoch, e.batches = m.Epoch, e.batches[:0]
	}
	e.coordinatorEpoch, e.lastTimestamp = m.CoordinatorEpoch, m.Timestamp
	if e.txnFirst == noOffset {
		return Completed{}, false
	}
	c := Completed{ProducerID: m.ProducerID, FirstOffset: e.txnFirst, LastOffset: m.Offset, Aborted: !m.Commit}
	e.txnFirst = noOffset
	delete(s.open, m.ProducerID)
	return c, true
}

// CheckEpoch checks a batch the broker writes on a producer's behalf
// inside its transaction (the offsets of TxnOffsetCommit): only the epoch
// is checked, as such a batch carries no sequence (Kafka appends it as
// the coordinator, not the client).
func (s *State) CheckEpoch(pid int64, epoch int16) int16 {
	if e := s.producers[pid]; e != nil && epoch < e.epoch {
		return kerr.InvalidProducerEpoch.Code
	}
	return 0
}

// ApplyTxnWrite records such a batch at offset: it opens the producer's
// transaction here if none is open, without touching its sequences.
func (s *State) ApplyTxnWrite(pid int64, epoch int16, offset, timestamp int64) {
	e := s.entryFor(pid, epoch)
	if epoch != e.epoch {
		e.epoch, e.batches = epoch, e.batches[:0]
	}
	e.lastTimestamp = timestamp
	if e.txnFirst == noOffset {
		e.txnFirst = offset
		s.open[pid] = offset
	}
}
