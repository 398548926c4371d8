package handler

// LeaveGroup, v0-5.
//
// v0-2 remove one member by id; v3 batches members by id or
// group.instance.id (KIP-345), with a code per member; v5 a reason per
// member (KIP-800).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/group"
)

func init() { register(13, 0, 5, leaveGroup) }

func leaveGroup(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.LeaveGroupRequest)
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	if !h.authorized(ctx, acl.OpRead, acl.ResourceGroup, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return ready(resp)
	}
	if req.Version < 3 {
		_, per := h.env.Groups.Leave(req.Group, []group.LeaveMember{{MemberID: req.MemberID}})
		resp.ErrorCode = per[0]
		return ready(resp)
	}
	members := make([]group.LeaveMember, len(req.Members))
	for i, m := range req.Members {
		members[i] = group.LeaveMember{MemberID: m.MemberID, InstanceID: m.InstanceID}
	}
	top, per := h.env.Groups.Leave(req.Group, members)
	resp.ErrorCode = top
	for i, m := range req.Members {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = m.MemberID, m.InstanceID
		if i < len(per) {
			rm.ErrorCode = per[i]
		}
		resp.Members = append(resp.Members, rm)
	}
	return ready(resp)
}
