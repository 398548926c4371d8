package producerstate

// Batch describes a record batch as far as producer state cares.
type Batch struct {
	ProducerID int64
	Epoch      int16
	// BaseSequence is the batch header's base sequence.
	BaseSequence int32
	// RecordCount gives LastSequence = BaseSequence + RecordCount - 1, wrapping
	// past MaxInt32 to 0.
	RecordCount int32
	// FirstOffset and LastOffset are the log offsets the batch was written at;
	// known at Apply, ignored by Check.
	FirstOffset, LastOffset int64
	// MaxTimestamp is the batch's time in ms, used for expiry.
	MaxTimestamp int64
	// Transactional marks a batch of a transaction: its producer's
	// transaction is open from the first such batch until a marker.
	Transactional bool
}

// idempotent reports whether the batch carries a producer id at all; batches
// without one (-1) have no producer state (Kafka's RecordBatch.hasProducerId).
func (b Batch) idempotent() bool { return b.ProducerID >= 0 }

// lastSequence is the sequence of the batch's last record.
func (b Batch) lastSequence() int32 { return lastSequence(b.BaseSequence, b.RecordCount) }

// batchMeta is what a producer remembers of one appended batch: enough to
// recognise a retry of it and to answer the retry with the original offsets
// (Kafka's BatchMetadata).
type batchMeta struct {
	FirstSeq, LastSeq       int32
	FirstOffset, LastOffset int64
	Timestamp               int64
	Transactional           bool
}

func metaOf(b Batch) batchMeta {
	return batchMeta{
		FirstSeq:      b.BaseSequence,
		LastSeq:       b.lastSequence(),
		FirstOffset:   b.FirstOffset,
		LastOffset:    b.LastOffset,
		Timestamp:     b.MaxTimestamp,
		Transactional: b.Transactional,
	}
}
