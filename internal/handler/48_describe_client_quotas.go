package handler

// DescribeClientQuotas, v0-1 (KIP-546; v1 is flexible).
//
// The filter's components select entities as Kafka's controller does
// (quota.Filter): exact (a name, or null for the default), default, or
// any entity having the type, the default included; strict leaves out
// entities with components the filter does not name. Every stored key is
// listed, the ones Sluice does not enforce too. A bad filter gets
// INVALID_REQUEST, an unknown entity or match type UNSUPPORTED_VERSION,
// each with Kafka's message; without DescribeConfigs on the cluster (when
// authorization is on), CLUSTER_AUTHORIZATION_FAILED.

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/metadata"
	"sluice/internal/quota"
)

func init() { register(48, 0, 1, describeClientQuotas) }

func describeClientQuotas(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.DescribeClientQuotasRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClientQuotasResponse)
	if !h.authorizedCluster(ctx, acl.OpDescribeConfigs) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		resp.ErrorMessage = kmsg.StringPtr("describing client quotas needs DescribeConfigs on the cluster")
		return ready(resp)
	}
	cs := make([]quota.FilterComponent, len(req.Components))
	for i, c := range req.Components {
		cs[i] = quota.FilterComponent{Type: c.EntityType, Match: int8(c.MatchType), Name: c.Match}
	}
	f, err := quota.NewFilter(cs, req.Strict)
	if err != nil {
		resp.ErrorCode = quotaErrorCode(err)
		resp.ErrorMessage = kmsg.StringPtr(err.Error())
		return ready(resp)
	}
	var all map[quota.Entity]map[string]float64
	h.env.Topics.ReadCatalog(func(st *metadata.State) { all = st.Quotas() })
	for _, e := range slices.SortedFunc(maps.Keys(all), compareEntities) {
		if !f.Matches(e) {
			continue
		}
		entry := kmsg.NewDescribeClientQuotasResponseEntry()
		for _, c := range e.Components() {
			ee := kmsg.NewDescribeClientQuotasResponseEntryEntity()
			ee.Type, ee.Name = c.Type, c.Name
			entry.Entity = append(entry.Entity, ee)
		}
		for _, k := range slices.Sorted(maps.Keys(all[e])) {
			v := kmsg.NewDescribeClientQuotasResponseEntryValue()
			v.Key, v.Value = k, all[e][k]
			entry.Values = append(entry.Values, v)
		}
		resp.Entries = append(resp.Entries, entry)
	}
	return ready(resp)
}

// quotaErrorCode is the code of a quota package error.
func quotaErrorCode(err error) int16 {
	if errors.Is(err, quota.ErrUnsupported) {
		return kerr.UnsupportedVersion.Code
	}
	return kerr.InvalidRequest.Code
}

// compareEntities orders entities by user, client id and ip; of each
// part, the default first, then names, then entities without it.
func compareEntities(a, b quota.Entity) int {
	pa, pb := []quota.Part{a.User, a.ClientID, a.IP}, []quota.Part{b.User, b.ClientID, b.IP}
	for i := range pa {
		if c := comparePart(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	return 0
}

func comparePart(a, b quota.Part) int {
	rank := func(p quota.Part) int {
		switch {
		case !p.Set:
			return 2
		case p.Default:
			return 0
		}
		return 1
	}
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}
