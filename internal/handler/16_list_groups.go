package handler

// ListGroups, v0-5.
//
// v4 filters by state (KIP-518); v5 by type (KIP-848): every group here
// is "classic", so a filter without it lists nothing.

import (
	"context"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
)

func init() { register(16, 0, 5, listGroups) }

func listGroups(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.ListGroupsRequest)
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	if len(req.TypesFilter) > 0 && !slices.ContainsFunc(req.TypesFilter, func(t string) bool { return strings.EqualFold(t, "classic") }) {
		return ready(resp)
	}
	all := h.authorizedCluster(ctx, acl.OpDescribe)
	for _, l := range h.env.Groups.List(req.StatesFilter) {
		if !all && !h.authorized(ctx, acl.OpDescribe, acl.ResourceGroup, l.Group) {
			continue
		}
		sg := kmsg.NewListGroupsResponseGroup()
		sg.Group, sg.ProtocolType, sg.GroupState, sg.GroupType = l.Group, l.ProtocolType, l.State, "classic"
		resp.Groups = append(resp.Groups, sg)
	}
	return ready(resp)
}
