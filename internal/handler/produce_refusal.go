package handler

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/partition"
	"sluice/internal/recordbatch"
)

// refusal is why one partition's batch of a Produce was not appended: the
// code every version gets, and for v8+ (KIP-467) a message a person can
// read and, for record-level faults, the records to blame by their index
// in the batch, as Kafka gives them for keyless records in a compacted
// topic and out-of-range timestamps. Refusals are built only on the
// failure path: an accepted batch allocates nothing here.
//
// Kafka fills the message only for record-level faults and a few
// transaction checks; Sluice fills it for every refusal it can explain.
// Clients show it with the error and act on the code alone.
type refusal struct {
	code    int16
	message string
	records []kmsg.ProduceResponseTopicPartitionErrorRecord
}

func refused(code int16, format string, args ...any) *refusal {
	return &refusal{code: code, message: fmt.Sprintf(format, args...)}
}

// answer writes the refusal into the partition's response.
func (r *refusal) answer(sp *kmsg.ProduceResponseTopicPartition, version int16) {
	sp.ErrorCode = r.code
	if version < 8 {
		return
	}
	if r.message != "" {
		sp.ErrorMessage = kmsg.StringPtr(r.message)
	}
	sp.ErrorRecords = r.records
}

// recordFaults refuses a batch for faults of single records: the message
// counts them and quotes the first.
func recordFaults(code int16, records []kmsg.ProduceResponseTopicPartitionErrorRecord) *refusal {
	return &refusal{code: code, records: records,
		message: fmt.Sprintf("%d of the batch's records refused; the first: %s", len(records), *records[0].ErrorMessage)}
}

// recordFault blames the record at index i of the batch.
func recordFault(i int32, format string, args ...any) kmsg.ProduceResponseTopicPartitionErrorRecord {
	return kmsg.ProduceResponseTopicPartitionErrorRecord{RelativeOffset: i, ErrorMessage: kmsg.StringPtr(fmt.Sprintf(format, args...))}
}

// tooLarge refuses a batch over the topic's max.message.bytes.
func tooLarge(size, max int64, topic string, part int32) *refusal {
	return refused(kerr.MessageTooLarge.Code, "the record batch of %d bytes for %s-%d exceeds max.message.bytes (%d)", size, topic, part, max)
}

// invalidBatch refuses bytes that failed recordbatch.Validate, naming what
// was wrong (the validation errors say it after their package prefix).
func invalidBatch(err error, topic string, part int32) *refusal {
	if errors.Is(err, recordbatch.ErrTooLarge) {
		return refused(kerr.MessageTooLarge.Code, "the record batch for %s-%d decompresses to more than %d bytes",
			topic, part, recordbatch.MaxDecompressedBytes)
	}
	return refused(kerr.CorruptMessage.Code, "corrupt record batch for %s-%d: %s",
		topic, part, strings.TrimPrefix(err.Error(), "recordbatch: "))
}

// appendRefusal is the answer to a batch of size bytes the partition
// refused.
func appendRefusal(err error, topic string, part int32, size int64, max int32) *refusal {
	code := appendErrorCode(err)
	var pe *partition.ProducerError
	switch {
	case errors.As(err, &pe):
		return refused(code, "%s", pe.Reason)
	case code == kerr.MessageTooLarge.Code:
		return tooLarge(size, int64(max), topic, part)
	case code == kerr.NotLeaderForPartition.Code:
		return refused(code, "%s-%d was deleted while the batch was appended", topic, part)
	}
	return refused(code, "%s-%d cannot write to its storage", topic, part)
}
