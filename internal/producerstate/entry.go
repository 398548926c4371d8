package producerstate

// batchesToRetain is how many batches a producer's entry remembers. A client
// keeps at most five requests in flight per partition
// (max.in.flight.requests.per.connection <= 5 with idempotence, KAFKA-5494), so
// any retry it can send is one of its last five batches (Kafka's
// ProducerStateEntry.NUM_BATCHES_TO_RETAIN).
const batchesToRetain = 5

// entry is one producer's state (Kafka's ProducerStateEntry). It holds the
// producer's last batches; none when a marker with a new epoch was the last
// thing the producer did here.
type entry struct {
	epoch         int16
	lastTimestamp int64
	// txnFirst is the first offset of the producer's open transaction in
	// this partition, noOffset when none (Kafka's currentTxnFirstOffset).
	txnFirst int64
	// coordinatorEpoch is the one of the last marker, -1 before any.
	coordinatorEpoch int32
	// batches are the last appended batches, oldest first.
	batches []batchMeta
}

// currentEpoch is the producer's epoch; a producer with no entry (new, expired,
// or whose batches were removed) has none, as in Kafka's ProducerStateEntry.empty.
func (e *entry) currentEpoch() int16 {
	if e == nil {
		return noEpoch
	}
	return e.epoch
}

// lastSeq is the last sequence appended in the current epoch, or noSequence.
func (e *entry) lastSeq() int32 {
	if e == nil || len(e.batches) == 0 {
		return noSequence
	}
	return e.batches[len(e.batches)-1].LastSeq
}

// duplicateOf finds the retained batch that b is a retry of: same epoch and the
// same first and last sequence (Kafka's ProducerStateEntry.findDuplicateBatch).
// Offsets are not compared: a retry is appended at a new offset.
func (e *entry) duplicateOf(b Batch) (batchMeta, bool) {
	if e == nil || b.Epoch != e.epoch {
		return batchMeta{}, false
	}
	first, last := b.BaseSequence, b.lastSequence()
	for _, m := range e.batches {
		if m.FirstSeq == first && m.LastSeq == last {
			return m, true
		}
	}
	return batchMeta{}, false
}

// add records an appended batch. Any change of epoch, up or down, starts a
// fresh history: the old epoch's batches can no longer be retried (Kafka's
// ProducerStateEntry.maybeUpdateProducerEpoch clears on inequality, which also
// keeps replay of an odd log deterministic).
func (e *entry) add(m batchMeta, epoch int16) {
	if epoch != e.epoch {
		e.epoch = epoch
		e.batches = e.batches[:0]
	}
	if len(e.batches) == batchesToRetain {
		copy(e.batches, e.batches[1:])
		e.batches = e.batches[:batchesToRetain-1]
	}
	e.batches = append(e.batches, m)
	// The last batch's time, not the maximum seen: Kafka sets lastTimestamp
	// from each appended batch, so it can move backwards with client clocks.
	e.lastTimestamp = m.Timestamp
}
