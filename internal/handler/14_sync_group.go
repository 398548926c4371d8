package handler

// SyncGroup, v0-5.
//
// Followers wait for the leader's assignment; the leader's sync hands
// every member its share. v3 adds group.instance.id (KIP-345); v5 the
// protocol type and name, checked against the group's
// (INCONSISTENT_GROUP_PROTOCOL on mismatch, KIP-559).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/group"
)

func init() { register(14, 0, 5, syncGroup) }

func syncGroup(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.SyncGroupRequest)
	if !h.authorized(ctx, acl.OpRead, acl.ResourceGroup, req.Group) {
		resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode, resp.MemberAssignment = kerr.GroupAuthorizationFailed.Code, []byte{}
		return ready(resp)
	}
	sr := group.SyncRequest{
		Group: req.Group, MemberID: req.MemberID, InstanceID: req.InstanceID, Generation: req.Generation,
		ProtocolType: req.ProtocolType, Protocol: req.Protocol,
	}
	if len(req.GroupAssignment) > 0 {
		sr.Assignments = make(map[string][]byte, len(req.GroupAssignment))
		for _, a := range req.GroupAssignment {
			sr.Assignments[a.MemberID] = a.MemberAssignment
		}
	}
	ch := h.env.Groups.Sync(sr)
	return Result{Wait: func() kmsg.Response {
		resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
		select {
		case reply := <-ch:
			s := reply.Sync
			resp.ErrorCode, resp.ProtocolType, resp.Protocol, resp.MemberAssignment = s.ErrorCode, s.ProtocolType, s.Protocol, s.Assignment
		case <-h.env.Ctx.Done():
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		}
		if resp.MemberAssignment == nil {
			resp.MemberAssignment = []byte{}
		}
		return resp
	}}
}
