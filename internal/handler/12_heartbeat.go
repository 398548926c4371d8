package handler

// Heartbeat, v0-4.
//
// Keeps a member's session alive and tells it a rebalance has begun
// (REBALANCE_IN_PROGRESS). v3 adds group.instance.id (KIP-345).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
)

func init() { register(12, 0, 4, heartbeat) }

func heartbeat(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.HeartbeatRequest)
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	if !h.authorized(ctx, acl.OpRead, acl.ResourceGroup, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return ready(resp)
	}
	resp.ErrorCode = h.env.Groups.Heartbeat(req.Group, req.MemberID, req.InstanceID, req.Generation)
	return ready(resp)
}
