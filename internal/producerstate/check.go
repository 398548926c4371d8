package producerstate

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Verdict is Check's answer for one batch.
type Verdict struct {
	// Code is 0, or the Kafka error code to answer the batch with.
	Code int16
	// Reason says why in words, for a person reading the answer; built
	// only when the batch is rejected.
	Reason string
	// Duplicate means the batch is a retry of one of the producer's last five
	// batches: answer with the original offsets and append nothing.
	Duplicate bool
	// FirstOffset and LastOffset are the duplicate's original offsets; -1
	// otherwise.
	FirstOffset, LastOffset int64
	// LogAppendTime is not known here: -1. The caller fills it in if it keeps it.
	LogAppendTime int64
	// BatchTimestamp is the duplicate's recorded MaxTimestamp, -1 otherwise. For
	// a LogAppendTime topic it is the original append time; Kafka answers a
	// duplicate with it as log_append_time whatever the topic's timestamp type
	// (UnifiedLog.append: appendInfo.setLogAppendTime(duplicate.timestamp)).
	BatchTimestamp int64
}

// Check decides whether b may be appended. It does not change the state.
//
// No rule here depends on the Produce version: Kafka answers a stale epoch
// on Produce with INVALID_PRODUCER_EPOCH at every version (KAFKA-10687 made
// Produce return only that code; PRODUCER_FENCED, KIP-588, is for the
// transactional APIs).
func (s *State) Check(b Batch) Verdict {
	if !b.idempotent() {
		return accepted()
	}
	e := s.producers[b.ProducerID]
	// Kafka looks for a duplicate before validating (UnifiedLog
	// .analyzeAndValidateProducerState). A duplicate must have the current
	// epoch, so the order against the epoch check does not matter.
	if m, ok := e.duplicateOf(b); ok {
		return duplicate(m)
	}
	if v, bad := checkEpoch(e, b); bad {
		return v
	}
	if e != nil && !b.Transactional && e.txnFirst != noOffset {
		// A producer with an open transaction writes only inside it
		// (Kafka's "Expected transactional write" check).
		return rejected(kerr.InvalidTxnState.Code, fmt.Sprintf(
			"expected a transactional write from producer %d, which has a transaction open in this partition", b.ProducerID))
	}
	if v, bad := checkSequence(e, b); bad {
		return v
	}
	return accepted()
}

// checkEpoch fences a producer older than the last one seen with its id
// (KIP-98; Kafka's ProducerAppendInfo.checkProducerEpoch). The code is
// INVALID_PRODUCER_EPOCH, which clients since 2.7 treat as abortable rather
// than fatal.
func checkEpoch(e *entry, b Batch) (Verdict, bool) {
	if b.Epoch < e.currentEpoch() {
		return rejected(kerr.InvalidProducerEpoch.Code, fmt.Sprintf(
			"epoch %d of producer %d is older than its last epoch %d", b.Epoch, b.ProducerID, e.currentEpoch())), true
	}
	return Verdict{}, false
}

// checkSequence enforces that a producer's batches arrive without gaps
// (Kafka's ProducerAppendInfo.checkSequence):
//
//   - a new epoch of a known producer must start at sequence 0;
//   - within the current epoch, BaseSequence must follow the last sequence;
//     anything else, lower or higher, is OUT_OF_ORDER_SEQUENCE_NUMBER
//     (a lower one that is not a retained duplicate is not answered with
//     DUPLICATE_SEQUENCE_NUMBER: Kafka stopped doing that in 1.1, KAFKA-6683);
//   - a producer without state here (new, or expired) must start at
//     sequence 0; mid-sequence it gets UNKNOWN_PRODUCER_ID, and the client
//     bumps its epoch and starts again at 0 (KIP-360). Kafka since 2.5
//     accepts such a batch instead (KAFKA-8710); Sluice keeps the stricter
//     answer on purpose: a producer it forgot may be retrying a batch that
//     is already in the log, and accepting it would store that batch twice.
func checkSequence(e *entry, b Batch) (Verdict, bool) {
	current := e.currentEpoch()
	switch {
	case current == noEpoch && b.BaseSequence != 0:
		return rejected(kerr.UnknownProducerID.Code, fmt.Sprintf(
			"producer %d has no state in this partition (never seen here, or expired): its first batch must have sequence 0, not %d",
			b.ProducerID, b.BaseSequence)), true
	case current == noEpoch: // a new producer's first batch
	case b.Epoch != current && b.BaseSequence != 0:
		return rejected(kerr.OutOfOrderSequenceNumber.Code, fmt.Sprintf(
			"new epoch %d of producer %d must start at sequence 0, not %d", b.Epoch, b.ProducerID, b.BaseSequence)), true
	case b.Epoch != current: // a new epoch's first batch
	case !inSequence(e.lastSeq(), b.BaseSequence):
		return rejected(kerr.OutOfOrderSequenceNumber.Code, fmt.Sprintf(
			"out of order sequence number for producer %d: %d (incoming), %d (last appended)", b.ProducerID, b.BaseSequence, e.lastSeq())), true
	}
	return Verdict{}, false
}

func accepted() Verdict {
	return Verdict{FirstOffset: -1, LastOffset: -1, LogAppendTime: -1, BatchTimestamp: -1}
}

func rejected(code int16, reason string) Verdict {
	v := accepted()
	v.Code, v.Reason = code, reason
	return v
}

func duplicate(m batchMeta) Verdict {
	return Verdict{
		Duplicate:      true,
		FirstOffset:    m.FirstOffset,
		LastOffset:     m.LastOffset,
		LogAppendTime:  -1,
		BatchTimestamp: m.Timestamp,
	}
}
