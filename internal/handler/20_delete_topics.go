package handler

// DeleteTopics, v1-6.
//
// The topic is removed from the catalog (durably) before its partitions are
// closed and their files deleted, so a crash in between finishes the delete
// on restart. v6 names topics by name or by id (KIP-516); an unknown id gets
// UNKNOWN_TOPIC_ID, an unknown name UNKNOWN_TOPIC_OR_PARTITION.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/metadata"
)

func init() { register(20, 1, 6, deleteTopics) }

func deleteTopics(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	names := req.TopicNames
	if req.Version >= 6 {
		names = nil
		for _, t := range req.Topics {
			st := h.deleteTopicV6(ctx, t)
			resp.Topics = append(resp.Topics, st)
		}
		return ready(resp)
	}
	for _, name := range names {
		st := kmsg.NewDeleteTopicsResponseTopic()
		n := name
		st.Topic = &n
		if !h.authorizedTopic(ctx, acl.OpDelete, name) {
			st.ErrorCode = kerr.TopicAuthorizationFailed.Code
		} else if err := h.env.Topics.Delete(name); err != nil {
			st.ErrorCode = topicErrorCode(err)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return ready(resp)
}

func (h *Handler) deleteTopicV6(ctx context.Context, rt kmsg.DeleteTopicsRequestTopic) kmsg.DeleteTopicsResponseTopic {
	st := kmsg.NewDeleteTopicsResponseTopic()
	st.Topic, st.TopicID = rt.Topic, rt.TopicID
	name := ""
	if rt.Topic != nil {
		name = *rt.Topic
	} else if t := h.env.Topics.GetByID(metadata.TopicID(rt.TopicID)); t != nil {
		name = t.Name
		st.Topic = &name
	} else {
		st.ErrorCode = kerr.UnknownTopicID.Code
		return st
	}
	if !h.authorizedTopic(ctx, acl.OpDelete, name) {
		st.ErrorCode = kerr.TopicAuthorizationFailed.Code
		return st
	}
	if t := h.env.Topics.Get(name); t != nil {
		st.TopicID = t.ID
	}
	if err := h.env.Topics.Delete(name); err != nil {
		st.ErrorCode = topicErrorCode(err)
	}
	return st
}
