package topics

import (
	"sluice/internal/metadata"
	"sluice/internal/quota"
)

// AlterQuotas decides a change of client quotas from the catalog,
// commits it durably as one record, and gives applied every quota now
// stored. change and applied run under the lock that serializes catalog
// changes, so concurrent changes reach applied in commit order. A change
// of nothing commits nothing; applied still runs.
func (m *Manager) AlterQuotas(change func(*metadata.State) []metadata.QuotaChange, applied func(map[quota.Entity]map[string]float64)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var changes []metadata.QuotaChange
	m.store.Read(func(st *metadata.State) { changes = change(st) })
	if len(changes) > 0 {
		if err := m.store.Commit(metadata.Record{Type: metadata.RecQuotas, Quotas: changes}); err != nil {
			return err
		}
	}
	var all map[quota.Entity]map[string]float64
	m.store.Read(func(st *metadata.State) { all = st.Quotas() })
	applied(all)
	return nil
}
