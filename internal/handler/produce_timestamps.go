package handler

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/metadata"
	"sluice/internal/recordbatch"
)

// checkTimestamps refuses a batch with records whose CreateTime is further
// from the broker's clock than the topic allows
// (message.timestamp.before.max.ms and message.timestamp.after.max.ms,
// KIP-937): INVALID_TIMESTAMP, with every such record named, as Kafka's
// log validation does. A record without a timestamp (-1) passes. Topics
// with the defaults (no bound) and LogAppendTime topics pay nothing.
func (h *Handler) checkTimestamps(b recordbatch.Batch, cfg metadata.TopicConfig, topic string, part int32) *refusal {
	if cfg.LogAppendTime || (cfg.TimestampBeforeMaxMs == math.MaxInt64 && cfg.TimestampAfterMaxMs == math.MaxInt64) {
		return nil
	}
	now := h.env.Clock().UnixMilli()
	lo, hi := now-cfg.TimestampBeforeMaxMs, now+min(cfg.TimestampAfterMaxMs, math.MaxInt64-now)
	var bad []kmsg.ProduceResponseTopicPartitionErrorRecord
	err := b.RecordTimestamps(func(offset, ts int64) bool {
		if ts != -1 && (ts < lo || ts > hi) {
			i := int32(offset - b.BaseOffset()) // offset deltas are the indexes: Validate checked
			bad = append(bad, recordFault(i, "record %d has timestamp %d, outside [%d, %d]: %s-%d takes CreateTime within "+
				"message.timestamp.before.max.ms and message.timestamp.after.max.ms of the broker's clock", i, ts, lo, hi, topic, part))
		}
		return true
	})
	switch {
	case err != nil:
		return invalidBatch(err, topic, part)
	case len(bad) == 0:
		return nil
	}
	return recordFaults(kerr.InvalidTimestamp.Code, bad)
}
