package handler

// OffsetForLeaderEpoch, v2-4.
//
// Where a leader epoch ended (KIP-101): a follower truncates to it; a
// consumer compares it with its position and, if it read past it, knows
// the log was cut under it (KIP-320: franz-go reports ErrDataLoss and
// resumes at the end offset, librdkafka raises a log-truncation error).
// The answer is the partition log's epoch cache: the current epoch ends at
// the log end offset; an older epoch ends where the next epoch that wrote
// began, answered with the last epoch at or below the one asked (the one
// that actually wrote up to there); an epoch older than anything the log
// still holds ends at the first epoch's start; an epoch above the current
// one gets leader epoch -1 and end offset -1 (UNDEFINED), with no error,
// as Kafka answers.
//
// current_leader_epoch (v2) is checked as in Fetch (leadership.go):
// FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER.
// replica_id (v3, KIP-392) is a follower's node id, -1 for a consumer or
// -2 for a tool; without authorization Kafka answers them alike, and so
// does Sluice. v4 is flexible. v0 and v1, without current_leader_epoch,
// were removed in Kafka 4.0 (KIP-896); franz-go and librdkafka send v2 or
// later. With authorization on, a topic the principal may not Describe
// gets TOPIC_AUTHORIZATION_FAILED on each of its partitions.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
)

func init() { register(23, 2, 4, offsetForLeaderEpoch) }

func offsetForLeaderEpoch(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	resp.Topics = make([]kmsg.OffsetForLeaderEpochResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		st := &resp.Topics[i]
		*st = kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.OffsetForLeaderEpochResponseTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			sp := &st.Partitions[j]
			*sp = kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition = rp.Partition
			if !h.authorizedTopic(ctx, acl.OpDescribe, rt.Topic) {
				sp.ErrorCode, sp.LeaderEpoch, sp.EndOffset = kerr.TopicAuthorizationFailed.Code, -1, -1
				continue
			}
			h.epochEndOffset(rt.Topic, rp, sp)
		}
	}
	return ready(resp)
}

func (h *Handler) epochEndOffset(topic string, rp kmsg.OffsetForLeaderEpochRequestTopicPartition, sp *kmsg.OffsetForLeaderEpochResponseTopicPartition) {
	p := h.env.Topics.Partition(topic, rp.Partition)
	if p == nil {
		sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return
	}
	if _, code := h.leaderCheck(topic, rp.Partition, rp.CurrentLeaderEpoch); code != 0 {
		sp.ErrorCode = code
		return
	}
	sp.LeaderEpoch, sp.EndOffset = p.EpochEndOffset(rp.LeaderEpoch)
}
