package handler

// JoinGroup, v0-9.
//
// The reply waits for the rebalance to complete (the write loop holds it
// while later requests are read and handled). v1 adds the rebalance
// timeout (v0 uses the session timeout); v4 makes a new member come back
// with the id it is given (MEMBER_ID_REQUIRED, KIP-394); v5 adds static
// membership (group.instance.id, KIP-345); v7 the protocol type in the
// answer; v8 a reason (KIP-800); v9 skip_assignment for a static leader
// rejoining without change (KIP-814).

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/group"
)

func init() { register(11, 0, 9, joinGroup) }

func joinGroup(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.JoinGroupRequest)
	if !h.authorized(ctx, acl.OpRead, acl.ResourceGroup, req.Group) {
		resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
		fillJoin(resp, &group.JoinResponse{ErrorCode: kerr.GroupAuthorizationFailed.Code})
		return ready(resp)
	}
	rebalance := req.RebalanceTimeoutMillis
	if req.Version == 0 {
		rebalance = req.SessionTimeoutMillis
	}
	jr := group.JoinRequest{
		Group: req.Group, MemberID: req.MemberID, InstanceID: req.InstanceID,
		ProtocolType:              req.ProtocolType,
		SessionTimeout:            time.Duration(req.SessionTimeoutMillis) * time.Millisecond,
		RebalanceTimeout:          time.Duration(rebalance) * time.Millisecond,
		RequireKnownMemberID:      req.Version >= 4,
		SkipAssignmentUnsupported: req.Version < 9,
	}
	jr.ClientID, jr.ClientHost = clientFrom(ctx)
	if req.Reason != nil {
		jr.Reason = *req.Reason
	}
	for _, p := range req.Protocols {
		jr.Protocols = append(jr.Protocols, group.Protocol{Name: p.Name, Metadata: p.Metadata})
	}
	ch := h.env.Groups.Join(jr)
	return Result{Wait: func() kmsg.Response {
		resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
		select {
		case reply := <-ch:
			fillJoin(resp, reply.Join)
		case <-h.env.Ctx.Done():
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		}
		return resp
	}}
}

func fillJoin(resp *kmsg.JoinGroupResponse, j *group.JoinResponse) {
	resp.ErrorCode, resp.Generation = j.ErrorCode, j.Generation
	resp.ProtocolType, resp.Protocol = j.ProtocolType, j.Protocol
	resp.LeaderID, resp.MemberID, resp.SkipAssignment = j.LeaderID, j.MemberID, j.SkipAssignment
	if resp.Version < 7 && resp.Protocol == nil {
		empty := ""
		resp.Protocol = &empty // non-nullable before v7
	}
	if j.ErrorCode != 0 && resp.Generation == 0 {
		resp.Generation = -1
	}
	for _, m := range j.Members {
		rm := kmsg.NewJoinGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ProtocolMetadata = m.MemberID, m.InstanceID, m.Metadata
		resp.Members = append(resp.Members, rm)
	}
}
