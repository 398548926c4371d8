package producerstate

// Producer is one producer as DescribeProducers reports it (KIP-664).
type Producer struct {
	ProducerID    int64
	Epoch         int16
	LastSequence  int32
	LastTimestamp int64
	// CoordinatorEpoch is the last marker's, -1 before any.
	CoordinatorEpoch int32
	// CurrentTxnStartOffset is the first offset of the producer's open
	// transaction, -1 when none.
	CurrentTxnStartOffset int64
}

// Producers describes every producer with state, in ascending id order.
func (s *State) Producers() []Producer {
	ids := s.sortedIDs()
	out := make([]Producer, 0, len(ids))
	for _, id := range ids {
		e := s.producers[id]
		out = append(out, Producer{
			ProducerID:            id,
			Epoch:                 e.epoch,
			LastSequence:          e.lastSeq(),
			LastTimestamp:         e.lastTimestamp,
			CoordinatorEpoch:      e.coordinatorEpoch,
			CurrentTxnStartOffset: e.txnFirst,
		})
	}
	return out
}
