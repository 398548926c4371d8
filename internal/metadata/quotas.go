package metadata

import (
	"fmt"
	"maps"
	"math"

	"sluice/internal/quota"
)

// QuotaChange is, in a client-quotas record, one entity's change: each
// key set to its value, or removed when the value is nil.
type QuotaChange struct {
	Entity []quota.Component   `json:"entity"`
	Values map[string]*float64 `json:"values"`
}

// applyQuotas applies every change of a record, or none: an entity that
// does not check, a value Kafka would refuse, or the removal of an absent
// key refuses the record, since it was built from the state it applies
// to. An entity left with no key is forgotten.
func (s *State) applyQuotas(r Record) error {
	if len(r.Quotas) == 0 {
		return fmt.Errorf("metadata: client quota record without a change")
	}
	next := map[quota.Entity]map[string]float64{}
	for _, c := range r.Quotas {
		e, err := quota.EntityOf(c.Entity)
		if err != nil {
			return fmt.Errorf("metadata: client quota entity: %w", err)
		}
		vals, ok := next[e]
		if !ok {
			vals = maps.Clone(s.quotas[e])
			if vals == nil {
				vals = map[string]float64{}
			}
		}
		if len(c.Values) == 0 {
			return fmt.Errorf("metadata: client quota change of %s without a key", e)
		}
		for k, v := range c.Values {
			if v == nil {
				if _, ok := vals[k]; !ok {
					return fmt.Errorf("metadata: removal of absent client quota %s of %s", k, e)
				}
				delete(vals, k)
				continue
			}
			if math.IsNaN(*v) {
				return fmt.Errorf("metadata: client quota %s of %s is not a number", k, e)
			}
			if err := quota.ValidateValue(e, k, *v); err != nil {
				return fmt.Errorf("metadata: client quota of %s: %w", e, err)
			}
			vals[k] = *v
		}
		next[e] = vals
	}
	for e, vals := range next {
		if len(vals) == 0 {
			delete(s.quotas, e)
		} else {
			s.quotas[e] = vals
		}
	}
	return nil
}

// Quotas returns every entity's client quotas, as a copy.
func (s *State) Quotas() map[quota.Entity]map[string]float64 {
	out := make(map[quota.Entity]map[string]float64, len(s.quotas))
	for e, vals := range s.quotas {
		out[e] = maps.Clone(vals)
	}
	return out
}

// Quota returns an entity's client quotas (nil: none). The map must not
// be changed.
func (s *State) Quota(e quota.Entity) map[string]float64 { return s.quotas[e] }
