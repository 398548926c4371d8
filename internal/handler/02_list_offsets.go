package handler

// ListOffsets, v1-8.
//
// Special timestamps: -2 earliest (the log start), -1 latest (the high
// watermark; under read_committed the last stable offset, which also
// bounds the searches by timestamp), -3 the record with the largest timestamp
// (v7+, KIP-734), -4 the earliest local offset (v8+, KIP-1005; all data is
// local, so the log start). Any other timestamp finds the first record whose
// timestamp is at or after it, or offset -1 when there is none. v4 adds the
// current leader epoch check (KIP-320, leadership.go) and the leader epoch
// in answers, as Kafka gives it: for -1 the partition's current epoch, for
// any other answer the epoch that wrote the offset found, -1 when nothing
// was found. With authorization on, a topic the principal may not
// Describe gets TOPIC_AUTHORIZATION_FAILED on each of its partitions.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/partition"
)

func init() { register(2, 1, 8, listOffsets) }

func listOffsets(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		allowed := h.authorizedTopic(ctx, acl.OpDescribe, rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			if !allowed {
				sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, -1
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			h.listOffset(rt.Topic, rp, &sp, req.IsolationLevel == 1)
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return ready(resp)
}

func (h *Handler) listOffset(topic string, rp kmsg.ListOffsetsRequestTopicPartition, sp *kmsg.ListOffsetsResponseTopicPartition, committed bool) {
	sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, -1
	p := h.env.Topics.Partition(topic, rp.Partition)
	if p == nil {
		sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return
	}
	pl, code := h.leaderCheck(topic, rp.Partition, rp.CurrentLeaderEpoch)
	if code != 0 {
		sp.ErrorCode = code
		return
	}
	switch rp.Timestamp {
	case -2, -4:
		sp.Offset = p.StartOffset()
		sp.LeaderEpoch = p.EpochForOffset(sp.Offset)
	case -1:
		sp.Offset = p.HighWatermark()
		if committed {
			sp.Offset = p.LastStableOffset()
		}
		sp.LeaderEpoch = pl.LeaderEpoch
	case -3:
		setFound(sp, p, func() (int64, int64, bool, error) { return p.MaxTimestamp(committed) })
	default:
		ts := rp.Timestamp
		setFound(sp, p, func() (int64, int64, bool, error) { return p.OffsetForTimestamp(ts, committed) })
	}
}

func setFound(sp *kmsg.ListOffsetsResponseTopicPartition, p *partition.Partition, find func() (int64, int64, bool, error)) {
	off, ts, ok, err := find()
	if err != nil {
		sp.ErrorCode = kerr.KafkaStorageError.Code
		return
	}
	if ok {
		sp.Offset, sp.Timestamp, sp.LeaderEpoch = off, ts, p.EpochForOffset(off)
	}
}
