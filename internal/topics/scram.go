package topics

import "sluice/internal/metadata"

// ReadCatalog calls fn with the catalog's state under its lock; fn must
// not keep the state.
func (m *Manager) ReadCatalog(fn func(*metadata.State)) { m.store.Read(fn) }

// AlterScram checks changes, a user's SCRAM credentials by mechanism (nil
// deletes), against the catalog and commits them durably, all or none.
// check runs under the lock that serializes changes to credentials, so
// what it saw is what the change applies to.
func (m *Manager) AlterScram(user string, check func(*metadata.State) error, changes map[string]*metadata.ScramCredential) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var err error
	m.store.Read(func(st *metadata.State) { err = check(st) })
	if err != nil {
		return err
	}
	return m.store.Commit(metadata.Record{Type: metadata.RecScram, User: user, Scram: changes})
}
