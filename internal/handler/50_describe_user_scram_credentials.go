package handler

// DescribeUserScramCredentials, v0 (KIP-554).
//
// No users (null or empty) lists every user with a credential. A named
// user without one gets RESOURCE_NOT_FOUND, a user named twice
// DUPLICATE_RESOURCE (once); the others are described. Only mechanisms
// and iteration counts are told, never salts or keys.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/metadata"
)

func init() { register(50, 0, 0, describeUserScramCredentials) }

// scramMechanisms maps the protocol's mechanism numbers to their names.
var scramMechanisms = map[int8]string{1: metadata.ScramSHA256, 2: metadata.ScramSHA512}

func scramMechanismCode(name string) int8 {
	for code, n := range scramMechanisms {
		if n == name {
			return code
		}
	}
	return 0
}

func describeUserScramCredentials(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	if !h.authorizedCluster(ctx, acl.OpDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		resp.ErrorMessage = kmsg.StringPtr("describing SCRAM credentials needs Describe on the cluster")
		return ready(resp)
	}
	h.env.Topics.ReadCatalog(func(st *metadata.State) {
		names := make([]string, 0, len(req.Users))
		count := map[string]int{}
		for _, u := range req.Users {
			if count[u.Name]++; count[u.Name] == 1 {
				names = append(names, u.Name)
			}
		}
		if len(req.Users) == 0 {
			names = st.ScramUsers()
		}
		for _, name := range names {
			res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
			res.User = name
			mechs := st.ScramMechanisms(name)
			switch {
			case count[name] > 1:
				res.ErrorCode = kerr.DuplicateResource.Code
				res.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("user %q is named more than once in the request", name))
			case len(mechs) == 0:
				res.ErrorCode = kerr.ResourceNotFound.Code
				res.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("user %q has no SCRAM credential", name))
			}
			if res.ErrorCode == 0 {
				for _, m := range mechs {
					c, _ := st.Scram(name, m)
					info := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
					info.Mechanism, info.Iterations = scramMechanismCode(m), c.Iterations
					res.CredentialInfos = append(res.CredentialInfos, info)
				}
			}
			resp.Results = append(resp.Results, res)
		}
	})
	return ready(resp)
}
