package handler

// DeleteGroups, v0-2.
//
// Only a group without members can be deleted (else NON_EMPTY_GROUP); its
// committed offsets go with it, durably, before the answer. An unknown
// group gets GROUP_ID_NOT_FOUND.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
)

func init() { register(42, 0, 2, deleteGroups) }

func deleteGroups(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.DeleteGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, g := range req.Groups {
		sg := kmsg.NewDeleteGroupsResponseGroup()
		sg.Group = g
		if g == "" {
			sg.ErrorCode = kerr.InvalidGroupID.Code
		} else if !h.authorized(ctx, acl.OpDelete, acl.ResourceGroup, g) {
			sg.ErrorCode = kerr.GroupAuthorizationFailed.Code
		} else {
			sg.ErrorCode = h.env.Groups.DeleteGroup(ctx, g)
		}
		resp.Groups = append(resp.Groups, sg)
	}
	return ready(resp)
}
