package handler

// AlterClientQuotas, v0-1 (KIP-546; v1 is flexible).
//
// Each entry names an entity (user, client-id, both, or ip; a null name
// is the default entity) and sets or removes keys; each is answered with
// the request's entity. The checks are Kafka's controller's, with its
// messages, all INVALID_REQUEST: the entity (quota.EntityOf), a key given
// twice in an entry, an entity given twice in the request (both entries
// are refused), and each value set (quota.ValidateValue: a key of the
// entity's type, above 0, whole for the byte rates). Removing a key that
// is not set succeeds and changes nothing, as does setting a key to its
// value. The entries that check are committed together as one catalog
// record, unless validate_only, and the limiter gets every quota at once.
// controller_mutation_rate and connection_creation_rate are stored and
// described, as Kafka does with keys it knows, but not enforced.
// Without AlterConfigs on the cluster (when authorization is on), every
// entry gets CLUSTER_AUTHORIZATION_FAILED and nothing is stored.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/metadata"
	"sluice/internal/quota"
)

func init() { register(49, 0, 1, alterClientQuotas) }

// quotaAlteration is one entry of the request, checked.
type quotaAlteration struct {
	result int // its index in the response
	entity quota.Entity
	values map[string]*float64 // nil value: remove
}

func alterClientQuotas(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.AlterClientQuotasRequest)
	resp := req.ResponseKind().(*kmsg.AlterClientQuotasResponse)
	allowed := h.authorizedCluster(ctx, acl.OpAlterConfigs)
	var alts []quotaAlteration
	seen := map[quota.Entity]int{} // entity -> its response index
	for i, entry := range req.Entries {
		res := kmsg.NewAlterClientQuotasResponseEntry()
		for _, e := range entry.Entity {
			re := kmsg.NewAlterClientQuotasResponseEntryEntity()
			re.Type, re.Name = e.Type, e.Name
			res.Entity = append(res.Entity, re)
		}
		resp.Entries = append(resp.Entries, res)
		if !allowed {
			refuseQuota(resp, i, kerr.ClusterAuthorizationFailed.Code, "altering client quotas needs AlterConfigs on the cluster")
			continue
		}
		alt, err := checkQuotaEntry(entry)
		if err != nil {
			refuseQuota(resp, i, kerr.InvalidRequest.Code, err.Error())
			continue
		}
		if first, dup := seen[alt.entity]; dup {
			msg := fmt.Sprintf("Ignoring duplicate entity %s", alt.entity)
			refuseQuota(resp, first, kerr.InvalidRequest.Code, msg)
			refuseQuota(resp, i, kerr.InvalidRequest.Code, msg)
			continue
		}
		seen[alt.entity] = i
		alt.result = i
		alts = append(alts, alt)
	}
	var keep []quotaAlteration
	for _, a := range alts {
		if resp.Entries[a.result].ErrorCode == 0 {
			keep = append(keep, a)
		}
	}
	if len(keep) == 0 || req.ValidateOnly {
		return ready(resp)
	}
	err := h.env.Topics.AlterQuotas(func(st *metadata.State) []metadata.QuotaChange {
		return quotaChanges(st, keep)
	}, h.setQuotas)
	if err != nil {
		h.env.Logger.Error("handler: commit client quotas", "err", err)
		for _, a := range keep {
			refuseQuota(resp, a.result, kerr.KafkaStorageError.Code, "the catalog could not be written")
		}
	}
	return ready(resp)
}

func refuseQuota(resp *kmsg.AlterClientQuotasResponse, i int, code int16, msg string) {
	resp.Entries[i].ErrorCode = code
	resp.Entries[i].ErrorMessage = kmsg.StringPtr(msg)
}

// checkQuotaEntry checks an entry's entity and values, copying its
// strings: the request's may alias the connection's buffer.
func checkQuotaEntry(entry kmsg.AlterClientQuotasRequestEntry) (quotaAlteration, error) {
	cs := make([]quota.Component, len(entry.Entity))
	for i, e := range entry.Entity {
		cs[i] = quota.Component{Type: e.Type, Name: clonePtr(e.Name)}
	}
	ent, err := quota.EntityOf(cs)
	if err != nil {
		return quotaAlteration{}, err
	}
	alt := quotaAlteration{entity: ent, values: map[string]*float64{}}
	for _, op := range entry.Ops {
		if _, dup := alt.values[op.Key]; dup {
			return alt, fmt.Errorf("Duplicate quota key %s not updating quota for this entity %s", op.Key, ent)
		}
		if op.Remove {
			alt.values[op.Key] = nil
			continue
		}
		if err := quota.ValidateValue(ent, op.Key, op.Value); err != nil {
			return alt, err
		}
		v := op.Value
		alt.values[op.Key] = &v
	}
	return alt, nil
}

// quotaChanges is the change each alteration makes to the catalog: the
// keys whose value differs, and the removals of keys that are set.
func quotaChanges(st *metadata.State, alts []quotaAlteration) []metadata.QuotaChange {
	var out []metadata.QuotaChange
	for _, a := range alts {
		cur := st.Quota(a.entity)
		vals := map[string]*float64{}
		for k, v := range a.values {
			old, set := cur[k]
			if (v == nil && set) || (v != nil && (!set || old != *v)) {
				vals[k] = v
			}
		}
		if len(vals) > 0 {
			out = append(out, metadata.QuotaChange{Entity: a.entity.Components(), Values: vals})
		}
	}
	return out
}

// LoadQuotas gives the limiter the quotas in the catalog; the broker
// calls it once at start, and AlterClientQuotas keeps it current after.
func (h *Handler) LoadQuotas() {
	var all map[quota.Entity]map[string]float64
	h.env.Topics.ReadCatalog(func(st *metadata.State) { all = st.Quotas() })
	h.setQuotas(all)
}

func (h *Handler) setQuotas(all map[quota.Entity]map[string]float64) {
	if h.env.Quotas != nil {
		h.env.Quotas.Set(all)
	}
}
