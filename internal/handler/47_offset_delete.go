package handler

// OffsetDelete, v0 (KIP-496).
//
// Deletes committed offsets of partitions the group no longer consumes; a
// topic a member of the group is subscribed to keeps its offsets
// (GROUP_SUBSCRIBED_TO_TOPIC). An unknown group gets GROUP_ID_NOT_FOUND.

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/group"
)

func init() { register(47, 0, 0, offsetDelete) }

func offsetDelete(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.OffsetDeleteRequest)
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if !h.authorized(ctx, acl.OpDelete, acl.ResourceGroup, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return ready(resp)
	}
	topicOK := h.topicAuth(ctx, acl.OpRead)
	var tps []group.TopicPartition
	for _, rt := range req.Topics {
		if !topicOK.allowed(rt.Topic) {
			continue
		}
		for _, p := range rt.Partitions {
			tps = append(tps, group.TopicPartition{Topic: rt.Topic, Partition: p.Partition})
		}
	}
	var top int16
	var codes []int16
	if len(tps) > 0 || len(req.Topics) == 0 {
		top, codes = h.env.Groups.DeleteOffsets(ctx, req.Group, tps, subscribedTo)
	}
	resp.ErrorCode = top
	i := 0
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetDeleteResponseTopic()
		st.Topic = rt.Topic
		denied := !topicOK.allowed(rt.Topic)
		for _, p := range rt.Partitions {
			sp := kmsg.NewOffsetDeleteResponseTopicPartition()
			sp.Partition = p.Partition
			if denied {
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			if top == 0 {
				sp.ErrorCode = codes[i]
			}
			i++
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return ready(resp)
}

// subscribedTo reports whether any member of a consumer group subscribes
// to topic, from the members' consumer protocol metadata.
func subscribedTo(d group.Description, topic string) bool {
	if d.ProtocolType != "consumer" {
		return false
	}
	for _, m := range d.Members {
		var md kmsg.ConsumerMemberMetadata
		if md.ReadFrom(m.Metadata) == nil && slices.Contains(md.Topics, topic) {
			return true
		}
	}
	return false
}
