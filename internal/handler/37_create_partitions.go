package handler

// CreatePartitions, v0-3.
//
// Grows a topic to the requested count; a count not above the current one
// gets INVALID_PARTITIONS, a manual assignment that is not one node of the
// cluster per partition INVALID_REPLICA_ASSIGNMENT, a topic named twice
// INVALID_REQUEST.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
)

func init() { register(37, 0, 3, createPartitions) }

func createPartitions(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	seen := map[string]int{}
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		switch {
		case seen[rt.Topic] > 1:
			st.ErrorCode = kerr.InvalidRequest.Code
		case !h.authorizedTopic(ctx, acl.OpAlter, rt.Topic):
			st.ErrorCode = kerr.TopicAuthorizationFailed.Code
		case !h.assignmentValid(rt.Assignment):
			st.ErrorCode = kerr.InvalidReplicaAssignment.Code
		default:
			if err := h.env.Topics.CreatePartitions(rt.Topic, rt.Count, req.ValidateOnly); err != nil {
				st.ErrorCode = topicErrorCode(err)
				msg := err.Error()
				st.ErrorMessage = &msg
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return ready(resp)
}

func (h *Handler) assignmentValid(as []kmsg.CreatePartitionsRequestTopicAssignment) bool {
	for _, a := range as {
		if !h.assignable(a.Replicas) {
			return false
		}
	}
	return true
}
