package handler

// CreateAcls, v0-v3 (KIP-11; pattern types from v1, KIP-290; v0 creates
// literal bindings).
//
// Each creation is answered in order. One that cannot be stored (a
// filter-only or unknown code, a principal not of the form type:name, an
// empty name or host, a cluster resource not named kafka-cluster) gets
// INVALID_REQUEST; without Alter on the cluster (when authorization is
// on), every creation gets CLUSTER_AUTHORIZATION_FAILED and nothing is
// stored. The valid ones are committed together; creating a binding that
// exists succeeds and changes nothing.

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/metadata"
)

func init() { register(30, 0, 3, createACLs) }

func createACLs(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.CreateACLsRequest)
	resp := req.ResponseKind().(*kmsg.CreateACLsResponse)
	allowed := h.authorizedCluster(ctx, acl.OpAlter)
	var add []acl.Binding
	for _, c := range req.Creations {
		res := kmsg.NewCreateACLsResponseResult()
		pt := c.ResourcePatternType
		if req.Version == 0 {
			pt = kmsg.ACLResourcePatternTypeLiteral
		}
		b := acl.Binding{
			ResourceType: acl.ResourceType(c.ResourceType), ResourceName: strings.Clone(c.ResourceName), PatternType: acl.PatternType(pt),
			Principal: strings.Clone(c.Principal), Host: strings.Clone(c.Host),
			Operation: acl.Operation(c.Operation), Permission: acl.Permission(c.PermissionType),
		}
		if !allowed {
			res.ErrorCode = kerr.ClusterAuthorizationFailed.Code
			res.ErrorMessage = kmsg.StringPtr("creating ACLs needs Alter on the cluster")
		} else if err := b.Validate(); err != nil {
			res.ErrorCode = kerr.InvalidRequest.Code
			res.ErrorMessage = kmsg.StringPtr(err.Error())
		} else {
			add = append(add, b)
		}
		resp.Results = append(resp.Results, res)
	}
	if len(add) == 0 {
		return ready(resp)
	}
	err := h.env.Topics.AlterACLs(func(st *metadata.State) (news, _ []acl.Binding) {
		seen := map[acl.Binding]bool{}
		for _, b := range add {
			if !st.HasACL(b) && !seen[b] {
				seen[b] = true
				news = append(news, b)
			}
		}
		return news, nil
	}, h.setACLs)
	if err != nil {
		h.env.Logger.Error("handler: commit ACLs", "err", err)
		for i := range resp.Results {
			if resp.Results[i].ErrorCode == 0 {
				resp.Results[i].ErrorCode = kerr.KafkaStorageError.Code
				resp.Results[i].ErrorMessage = kmsg.StringPtr("the catalog could not be written")
			}
		}
	}
	return ready(resp)
}
