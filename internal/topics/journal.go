package topics

import (
	"errors"
	"path"

	"sluice/internal/journal"
	"sluice/internal/metadata"
	"sluice/internal/partition"
)

// The journal (package journal): under fsync=always every partition's
// batches also go to one log in <data dir>/__sluice_journal, and an
// acks=all produce waits for its fsync instead of one per partition.
//
// At the start, whatever the setting, the journal files a crash left are
// read before any partition opens; each partition appends again what its
// log lacks of them and syncs (partition.Open); then the files are
// deleted and, with the journal on, a new one begins. Until that deletion
// the files are left as they were, so a start that fails reads them again.

func journalKey(id metadata.TopicID, i int32) journal.Key {
	return journal.Key{Topic: id, Partition: i}
}

// journalOn reports whether partitions append to a journal.
func (m *Manager) journalOn() bool { return m.cfg.Journal && m.cfg.Fsync == partition.FsyncAlways }

// openJournal reads what the journal holds and, with the journal on,
// makes the journal partitions will append to (writing nothing yet).
func (m *Manager) openJournal() error {
	dir := path.Join(m.cfg.DataDir, journalDir)
	rec, err := journal.Recover(m.fs, dir)
	if err != nil {
		return err
	}
	if n, bytes := rec.Files(); n > 0 {
		m.replay = rec
		m.cfg.Logger.Info("topics: replaying the journal", "files", n, "bytes", bytes)
	}
	if !m.journalOn() {
		return nil
	}
	m.journal, err = journal.New(m.fs, dir, journal.Options{SyncAll: m.syncAllSegments, Logger: m.cfg.Logger})
	return err
}

// startJournal deletes the files replayed, now that every partition has
// synced what it took from them, and starts the journal.
func (m *Manager) startJournal() error {
	if m.replay != nil {
		if err := m.replay.Discard(path.Join(m.cfg.DataDir, journalDir)); err != nil {
			return err
		}
		m.replay = nil
	}
	if m.journal == nil {
		return nil
	}
	return m.journal.Start()
}

// partitionJournal is the journal a partition appends to, if any. (A
// typed nil would not compare equal to nil in the partition.)
func (m *Manager) partitionJournal() partition.Journal {
	if m.journal == nil {
		return nil
	}
	return m.journal
}

// syncAllSegments syncs every live partition's segments: a journal
// checkpoint, before it deletes the files this covers.
func (m *Manager) syncAllSegments() error {
	var errs []error
	for _, t := range m.All() {
		for _, p := range t.Partitions {
			errs = append(errs, p.SyncSegments())
		}
	}
	return errors.Join(errs...)
}
