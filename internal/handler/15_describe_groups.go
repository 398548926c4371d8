package handler

// DescribeGroups, v0-5.
//
// State, protocol and members with their metadata and assignments. An
// unknown group is reported as state Dead with no error, as Kafka does up
// to v5. v3 adds authorized operations (KIP-430: the bitfield of what the
// principal may do to the group, when asked); v4 the
// group.instance.id of each member (KIP-345).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
)

func init() { register(15, 0, 5, describeGroups) }

func describeGroups(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.DescribeGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, g := range req.Groups {
		sg := kmsg.NewDescribeGroupsResponseGroup()
		sg.Group = g
		if g == "" {
			sg.ErrorCode = kerr.InvalidGroupID.Code
		} else if !h.authorized(ctx, acl.OpDescribe, acl.ResourceGroup, g) {
			sg.ErrorCode = kerr.GroupAuthorizationFailed.Code
		} else if d, ok := h.env.Groups.Describe(g); !ok {
			sg.State = "Dead"
		} else {
			sg.State, sg.ProtocolType, sg.Protocol = d.State, d.ProtocolType, d.Protocol
			for _, m := range d.Members {
				sm := kmsg.NewDescribeGroupsResponseGroupMember()
				sm.MemberID, sm.InstanceID, sm.ClientID, sm.ClientHost = m.MemberID, m.InstanceID, m.ClientID, m.ClientHost
				sm.ProtocolMetadata, sm.MemberAssignment = m.Metadata, m.Assignment
				if sm.MemberAssignment == nil {
					sm.MemberAssignment = []byte{}
				}
				sg.Members = append(sg.Members, sm)
			}
		}
		if req.IncludeAuthorizedOperations && sg.ErrorCode == 0 {
			sg.AuthorizedOperations = h.authorizedOperations(ctx, acl.ResourceGroup, g)
		}
		resp.Groups = append(resp.Groups, sg)
	}
	return ready(resp)
}
