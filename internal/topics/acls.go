package topics

import (
	"sluice/internal/acl"
	"sluice/internal/metadata"
)

// AlterACLs decides a change of the access control bindings from the
// catalog, commits it durably, and gives applied every binding now stored.
// change and applied run under the lock that serializes catalog changes,
// so what change saw is what the record applies to, and concurrent
// changes reach applied in commit order. A change adding and removing
// nothing commits nothing; applied still runs.
func (m *Manager) AlterACLs(change func(*metadata.State) (add, del []acl.Binding), applied func([]acl.Binding)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var add, del []acl.Binding
	m.store.Read(func(st *metadata.State) { add, del = change(st) })
	if len(add) > 0 || len(del) > 0 {
		if err := m.store.Commit(metadata.Record{Type: metadata.RecACLs, AddACLs: add, DeleteACLs: del}); err != nil {
			return err
		}
	}
	var all []acl.Binding
	m.store.Read(func(st *metadata.State) { all = st.ACLs() })
	applied(all)
	return nil
}
