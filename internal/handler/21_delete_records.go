package handler

// DeleteRecords, v0-2 (KIP-107; v1 is v0, v2 is flexible).
//
// Moves each partition's log start offset up to the given offset (-1: the
// high watermark); records below it are no longer read and the segments
// wholly below it are deleted. The move is durable before the answer
// (docs/durability.md). The low watermark answered is the log start
// offset after the request: Kafka's smallest log start of the replicas,
// and there is one. Per partition, in Kafka's order: an unknown topic or
// partition is UNKNOWN_TOPIC_OR_PARTITION, an internal topic
// INVALID_TOPIC_EXCEPTION, a topic whose cleanup.policy lacks delete
// POLICY_VIOLATION, an offset below -1 or above the high watermark
// OFFSET_OUT_OF_RANGE; errors answer a low watermark of -1. An offset below
// the current start succeeds and answers the current start. With one
// replica there is nothing to wait for, so the timeout is not used.

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/partition"
	"sluice/internal/topics"
)

func init() { register(21, 0, 2, deleteRecords) }

func deleteRecords(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		allowed := h.authorizedTopic(ctx, acl.OpDelete, rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition = rp.Partition
			if !allowed {
				sp.LowWatermark, sp.ErrorCode = -1, kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			sp.LowWatermark, sp.ErrorCode = h.deleteRecordsBefore(rt.Topic, rp.Partition, rp.Offset)
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return ready(resp)
}

// deleteRecordsBefore answers one partition: its low watermark and error code.
func (h *Handler) deleteRecordsBefore(topic string, index int32, offset int64) (int64, int16) {
	t := h.env.Topics.Get(topic)
	switch {
	case t == nil || index < 0 || int(index) >= len(t.Partitions):
		return -1, kerr.UnknownTopicOrPartition.Code
	case topics.IsInternal(topic):
		return -1, kerr.InvalidTopicException.Code
	case !t.Config.Delete():
		return -1, kerr.PolicyViolation.Code
	}
	start, err := t.Partitions[index].DeleteRecords(offset)
	switch {
	case err == nil:
		return start, 0
	case errors.Is(err, partition.ErrOffsetOutOfRange):
		return -1, kerr.OffsetOutOfRange.Code
	}
	h.env.Logger.Error("DeleteRecords failed", "topic", topic, "partition", index, "offset", offset, "err", err)
	return -1, kerr.KafkaStorageError.Code
}
