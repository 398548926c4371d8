package handler

// OffsetCommit, v2-9.
//
// A commit is checked against the group's membership first (a stale
// generation gets ILLEGAL_GENERATION, an unknown member UNKNOWN_MEMBER_ID,
// a commit during CompletingRebalance REBALANCE_IN_PROGRESS, a fenced
// static member FENCED_INSTANCE_ID); generation -1 with no member is a
// simple consumer's commit, allowed while the group has no members. A
// partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION. The
// answer waits until the commit is durable under the broker's fsync
// policy. v2-4 carry a retention time, ignored as in Kafka 2.1+ (KIP-211);
// v6 adds the leader epoch (KIP-320); v7 group.instance.id (KIP-345).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/group"
)

func init() { register(8, 2, 9, offsetCommit) }

func offsetCommit(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.OffsetCommitRequest)
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	groupOK := h.authorized(ctx, acl.OpRead, acl.ResourceGroup, req.Group)
	topicOK := h.topicAuth(ctx, acl.OpRead)
	cr := group.CommitRequest{Group: req.Group, MemberID: req.MemberID, InstanceID: req.InstanceID, Generation: req.Generation}
	type slot struct{ t, p int }
	var slots []slot // response position of each offset in cr
	for i, rt := range req.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			if !groupOK {
				sp.ErrorCode = kerr.GroupAuthorizationFailed.Code
			} else if !topicOK.allowed(rt.Topic) {
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			} else if h.env.Topics.Partition(rt.Topic, rp.Partition) == nil {
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else {
				epoch := rp.LeaderEpoch
				if req.Version < 6 {
					epoch = -1
				}
				cr.Offsets = append(cr.Offsets, group.CommitOffset{
					TopicPartition: group.TopicPartition{Topic: rt.Topic, Partition: rp.Partition},
					Offset:         rp.Offset, LeaderEpoch: epoch, Metadata: rp.Metadata,
				})
				slots = append(slots, slot{i, len(st.Partitions)})
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if len(cr.Offsets) == 0 {
		return ready(resp)
	}
	// Validation and the append happen now, in request order; only the
	// durable wait is deferred to the write loop.
	wait := h.env.Groups.Commit(cr)
	return Result{Wait: func() kmsg.Response {
		codes := wait(context.Background())
		for j, s := range slots {
			resp.Topics[s.t].Partitions[s.p].ErrorCode = codes[j]
		}
		return resp
	}}
}
