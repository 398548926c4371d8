package topics

import (
	"fmt"
	"path"
	"slices"

	"sluice/internal/metadata"
)

// survey is what start-up found in the data dir, each directory put in
// one class by what the catalog says of it. Nothing is changed on disk
// until the whole data dir has been classified without a refusal.
type survey struct {
	live     map[string]bool   // directories of live partitions
	needMeta map[string]bool   // live directories without partition.metadata yet
	doomed   []doomedDir       // partitions of deleted topics, not yet marked
	marked   []string          // marked for deletion, of topics the catalog deleted
	unknown  []string          // anything else: kept, logged
	orphans  map[string]orphan // unknown partition directories that name a topic id
}

type doomedDir struct {
	dir string
	id  metadata.TopicID
}

// orphan is a topic the catalog does not know but whose partition
// directories say what it was; --recover-catalog registers it again.
type orphan struct {
	name       string
	id         metadata.TopicID
	partitions int32 // highest partition index found + 1
}

// surveyDataDir classifies every entry of the data dir. It fails, before
// anything is touched, for a directory of a live topic's name that holds
// another topic's id which the catalog does not record as deleted: the
// catalog and the disk disagree, and guessing which is right could serve
// one topic's data as another's or delete it.
func (m *Manager) surveyDataDir(st *metadata.State) (*survey, error) {
	names, err := m.fs.ReadDir(m.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	sv := &survey{live: map[string]bool{}, needMeta: map[string]bool{}, orphans: map[string]orphan{}}
	for _, n := range names {
		if n == catalogDir || n == journalDir {
			continue
		}
		if err := m.classify(sv, st, n); err != nil {
			return nil, err
		}
	}
	return sv, nil
}

func (m *Manager) classify(sv *survey, st *metadata.State, n string) error {
	full := path.Join(m.cfg.DataDir, n)
	if _, isDir, err := m.fs.Stat(full); err != nil || !isDir {
		sv.unknown = append(sv.unknown, n)
		return err
	}
	if id, ok := parseDeletionDir(n); ok {
		if _, deleted := st.DeletedTopic(id); deleted {
			sv.marked = append(sv.marked, n)
		} else {
			sv.unknown = append(sv.unknown, n)
		}
		return nil
	}
	topic, i, ok := parsePartitionDir(n)
	if !ok {
		sv.unknown = append(sv.unknown, n)
		return nil
	}
	pm, hasID, err := readPartitionMeta(m.fs, full)
	if err != nil {
		return fmt.Errorf("topics: partition directory %s: %w; nothing was changed", full, err)
	}
	_, deleted := st.DeletedTopic(pm.TopicID)
	t, live := st.Topic(topic)
	switch {
	case live && i < t.Partitions && (!hasID || pm.TopicID == t.ID):
		sv.live[n] = true
		sv.needMeta[n] = !hasID
	case hasID && deleted:
		sv.doomed = append(sv.doomed, doomedDir{n, pm.TopicID})
	case live && i < t.Partitions:
		return fmt.Errorf("topics: partition directory %s holds topic id %s, but the catalog names topic %q with id %s and has no record of %s being deleted; nothing was changed: move the directory away, or restore the catalog that matches it",
			full, pm.TopicID, topic, t.ID, pm.TopicID)
	default:
		sv.unknown = append(sv.unknown, n)
		if hasID && !live && !IsInternal(topic) {
			o := sv.orphans[topic]
			if o.id.IsZero() || o.id == pm.TopicID {
				sv.orphans[topic] = orphan{name: topic, id: pm.TopicID, partitions: max(o.partitions, i+1)}
			}
		}
	}
	return nil
}

// settle acts on a survey: marks and removes the directories of deleted
// topics, and logs each unknown entry once.
func (m *Manager) settle(sv *survey) error {
	for _, d := range sv.doomed {
		marked, err := m.markDeleted(d.dir, d.id)
		if err != nil {
			return err
		}
		sv.marked = append(sv.marked, marked)
	}
	for _, n := range sv.marked {
		m.cfg.Logger.Info("topics: removing directory of a deleted topic", "dir", n)
		if err := m.removeDir(path.Join(m.cfg.DataDir, n)); err != nil {
			return err
		}
	}
	for _, n := range sv.unknown {
		m.cfg.Logger.Warn("topics: leaving in place an entry of the data dir the catalog does not name (start with --recover-catalog to register topics whose directories carry partition.metadata)", "dir", n)
	}
	return nil
}

// adoptOrphans registers again, with their recorded ids and default
// configs, the topics whose partition directories the catalog does not
// name. It is what --recover-catalog does after a damaged catalog lost
// their records.
func (m *Manager) adoptOrphans(sv *survey) error {
	names := make([]string, 0, len(sv.orphans))
	for n := range sv.orphans {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		o := sv.orphans[n]
		rec := metadata.Record{Type: metadata.RecCreateTopic, Topic: o.name, TopicID: o.id, Partitions: o.partitions}
		if err := m.store.Commit(rec); err != nil {
			m.cfg.Logger.Error("topics: cannot register a topic found on disk; its directories stay in place", "topic", o.name, "id", o.id.String(), "err", err)
			continue
		}
		m.cfg.Logger.Warn("topics: registered a topic found on disk; its configs were lost with the catalog and are the defaults now: set them again",
			"topic", o.name, "id", o.id.String(), "partitions", o.partitions)
		sv.unknown = slices.DeleteFunc(sv.unknown, func(d string) bool {
			t, i, ok := parsePartitionDir(d)
			if ok && t == o.name && i < o.partitions {
				sv.live[d] = true
				return true
			}
			return false
		})
	}
	return nil
}

// markDeleted renames a deleted topic's partition directory with the
// deletion mark and makes the rename durable.
func (m *Manager) markDeleted(dir string, id metadata.TopicID) (string, error) {
	marked := deletionDirName(dir, id)
	if err := m.fs.Rename(path.Join(m.cfg.DataDir, dir), path.Join(m.cfg.DataDir, marked)); err != nil {
		return "", fmt.Errorf("topics: mark %s deleted: %w", dir, err)
	}
	if err := m.fs.SyncDir(m.cfg.DataDir); err != nil {
		return "", err
	}
	return marked, nil
}
