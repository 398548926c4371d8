package handler

// DeleteAcls, v0-v3 (KIP-11; pattern types from v1, KIP-290; v0 filters
// select literal bindings).
//
// Each filter is answered in order with the bindings it removed. An
// invalid filter gets INVALID_REQUEST; without Alter on the cluster (when
// authorization is on), every filter gets CLUSTER_AUTHORIZATION_FAILED and
// nothing is removed. The removals of all valid filters are committed
// together; a binding two filters select is removed once and reported by
// both.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/metadata"
)

func init() { register(31, 0, 3, deleteACLs) }

func deleteACLs(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.DeleteACLsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteACLsResponse)
	allowed := h.authorizedCluster(ctx, acl.OpAlter)
	filters := make([]*acl.Filter, len(req.Filters))
	for i, rf := range req.Filters {
		res := kmsg.NewDeleteACLsResponseResult()
		f := filterOf(req.Version, rf.ResourceType, rf.ResourceName, rf.ResourcePatternType, rf.Principal, rf.Host, rf.Operation, rf.PermissionType)
		if !allowed {
			res.ErrorCode = kerr.ClusterAuthorizationFailed.Code
			res.ErrorMessage = kmsg.StringPtr("deleting ACLs needs Alter on the cluster")
		} else if err := f.Validate(); err != nil {
			res.ErrorCode = kerr.InvalidRequest.Code
			res.ErrorMessage = kmsg.StringPtr(err.Error())
		} else {
			filters[i] = &f
		}
		resp.Results = append(resp.Results, res)
	}
	matched := make([][]acl.Binding, len(filters))
	err := h.env.Topics.AlterACLs(func(st *metadata.State) (_, del []acl.Binding) {
		seen := map[acl.Binding]bool{}
		for _, b := range st.ACLs() {
			for i, f := range filters {
				if f != nil && f.Matches(b) {
					matched[i] = append(matched[i], b)
					if !seen[b] {
						seen[b] = true
						del = append(del, b)
					}
				}
			}
		}
		return nil, del
	}, h.setACLs)
	for i := range resp.Results {
		res := &resp.Results[i]
		if filters[i] == nil {
			continue
		}
		if err != nil {
			res.ErrorCode = kerr.KafkaStorageError.Code
			res.ErrorMessage = kmsg.StringPtr("the catalog could not be written")
			continue
		}
		for _, b := range matched[i] {
			m := kmsg.NewDeleteACLsResponseResultMatchingACL()
			m.ResourceType, m.ResourceName, m.ResourcePatternType = kmsg.ACLResourceType(b.ResourceType), b.ResourceName, kmsg.ACLResourcePatternType(b.PatternType)
			m.Principal, m.Host = b.Principal, b.Host
			m.Operation, m.PermissionType = kmsg.ACLOperation(b.Operation), kmsg.ACLPermissionType(b.Permission)
			res.MatchingACLs = append(res.MatchingACLs, m)
		}
	}
	if err != nil {
		h.env.Logger.Error("handler: commit ACL deletions", "err", err)
	}
	return ready(resp)
}
