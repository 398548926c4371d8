package producerstate

import "math"

// Sentinels of the record batch format: a batch without a producer epoch or
// sequence carries -1 (Kafka's RecordBatch.NO_PRODUCER_EPOCH / NO_SEQUENCE).
const (
	noEpoch    int16 = -1
	noSequence int32 = -1
	noOffset   int64 = -1
)

// lastSequence is the sequence of a batch's last record. Sequences are
// non-negative int32s that wrap from MaxInt32 to 0 (the protocol's rule; Kafka's
// DefaultRecordBatch.incrementSequence), so a batch may span the wrap. The sum
// is taken in int64 so garbage counts seen during replay cannot overflow.
func lastSequence(base, count int32) int32 {
	s := int64(base) + int64(count) - 1
	if s > math.MaxInt32 {
		s -= math.MaxInt32 + 1
	}
	return int32(s)
}

// inSequence reports whether next directly follows last, with the wrap from
// MaxInt32 to 0 (Kafka's ProducerAppendInfo.inSequence).
func inSequence(last, next int32) bool {
	return int64(next) == int64(last)+1 || (next == 0 && last == math.MaxInt32)
}
