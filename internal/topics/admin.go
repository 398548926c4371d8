package topics

import (
	"fmt"
	"path"
	"strings"

	"sluice/internal/metadata"
)

// maxTopicNameLen is Kafka's limit (the partition directory adds a suffix).
const maxTopicNameLen = 249

// ValidateName checks a topic name as Kafka does: 1-249 characters of
// [a-zA-Z0-9._-], not "." or "..".
func ValidateName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > maxTopicNameLen {
		return fmt.Errorf("%w: %q", ErrInvalidTopic, name)
	}
	for _, c := range name {
		ok := c == '.' || c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok {
			return fmt.Errorf("%w: %q has %q", ErrInvalidTopic, name, c)
		}
	}
	if strings.HasPrefix(name, "__sluice") {
		return fmt.Errorf("%w: %q is reserved", ErrInvalidTopic, name)
	}
	return nil
}

// OffsetsTopic is the internal topic holding committed offsets.
const OffsetsTopic = "__consumer_offsets"

// TxnStateTopic is the internal topic holding transaction state.
const TxnStateTopic = "__transaction_state"

// IsInternal reports whether a topic belongs to the broker: clients may
// read it, but only the broker writes it and nobody deletes it.
func IsInternal(name string) bool { return name == OffsetsTopic || name == TxnStateTopic }

// EnsureInternal creates an internal topic if it does not exist yet and
// returns it. Internal topics keep their data until the broker compacts it
// (no time or size retention).
func (m *Manager) EnsureInternal(name string, partitions int32, configs map[string]string) (*Topic, error) {
	if t := m.Get(name); t != nil {
		return t, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id, err := m.internalTopicID(name, partitions)
	if err != nil {
		return nil, err
	}
	rec := metadata.Record{Type: metadata.RecCreateTopic, Topic: name, TopicID: id, Partitions: partitions, Configs: ptrs(configs)}
	if err := m.store.Commit(rec); err != nil {
		return nil, err
	}
	t, err := m.openTopic(m.catalogTopic(name), 0)
	if err != nil {
		return nil, err
	}
	m.publish(name, t)
	m.cfg.Logger.Info("topics: created internal topic", "topic", name, "partitions", partitions)
	return t, nil
}

// internalTopicID returns the id for an internal topic the catalog does not
// name: a new one, or, when its directories are on disk (the catalog was
// lost or recovered without the topic's record), the id they carry, so
// that the broker's own state is found again rather than left aside.
func (m *Manager) internalTopicID(name string, partitions int32) (metadata.TopicID, error) {
	pm, ok, err := readPartitionMeta(m.fs, m.partitionDir(name, 0))
	if err != nil {
		return metadata.TopicID{}, err
	}
	if !ok || pm.Topic != name {
		return newTopicID(), m.checkDirsFree(name, 0, partitions)
	}
	var deleted bool
	m.store.Read(func(s *metadata.State) { _, deleted = s.DeletedTopic(pm.TopicID) })
	if deleted {
		return metadata.TopicID{}, fmt.Errorf("topics: %s holds the id of a deleted topic", m.partitionDir(name, 0))
	}
	m.cfg.Logger.Warn("topics: registering the internal topic found on disk again", "topic", name, "id", pm.TopicID.String())
	return pm.TopicID, nil
}

// CreateRequest is a topic to create.
type CreateRequest struct {
	Name              string
	Partitions        int32 // -1: the broker default
	ReplicationFactor int16 // -1: the broker default (1)
	Configs           map[string]string
	ValidateOnly      bool
}

// DefaultPartitions is num.partitions: the partitions of a topic created
// without a count.
func (m *Manager) DefaultPartitions() int32 { return m.cfg.DefaultPartitions }

// Create validates and (unless ValidateOnly) creates a topic. It returns the
// created topic (nil when only validating).
func (m *Manager) Create(r CreateRequest) (*Topic, error) {
	if err := ValidateName(r.Name); err != nil {
		return nil, err
	}
	if r.Partitions == -1 {
		r.Partitions = m.cfg.DefaultPartitions
	}
	if r.Partitions <= 0 {
		return nil, fmt.Errorf("%w: %d", ErrInvalidPartitions, r.Partitions)
	}
	if r.ReplicationFactor != -1 && r.ReplicationFactor != 1 {
		return nil, fmt.Errorf("%w: %d (this cluster has one broker)", ErrInvalidReplicas, r.ReplicationFactor)
	}
	if err := validateConfigs(r.Configs); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Get(r.Name) != nil {
		return nil, fmt.Errorf("%w: %q", ErrTopicExists, r.Name)
	}
	if err := m.checkDirsFree(r.Name, 0, r.Partitions); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTopicExists, err)
	}
	if r.ValidateOnly {
		return nil, nil
	}
	rec := metadata.Record{Type: metadata.RecCreateTopic, Topic: r.Name, TopicID: newTopicID(), Partitions: r.Partitions, Configs: ptrs(r.Configs)}
	if err := m.store.Commit(rec); err != nil {
		return nil, err
	}
	t, err := m.openTopic(m.catalogTopic(r.Name), 0)
	if err != nil {
		return nil, err
	}
	m.publish(r.Name, t)
	m.cfg.Logger.Info("topics: created", "topic", r.Name, "partitions", r.Partitions, "id", rec.TopicID.String())
	return t, nil
}

func (m *Manager) catalogTopic(name string) metadata.Topic {
	var t metadata.Topic
	m.store.Read(func(s *metadata.State) { t, _ = s.Topic(name) })
	return t
}

func validateConfigs(cfgs map[string]string) error {
	for k, v := range cfgs {
		if err := metadata.ValidateConfig(k, v); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
	}
	return nil
}

func ptrs(m map[string]string) map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = &v
	}
	return out
}

// Delete deletes a topic: the catalog record first; then its partitions
// are closed, their directories renamed with the deletion mark (so a topic
// created again under the name starts empty) and removed. A crash at any
// step is finished at the next start, which removes only directories whose
// partition.metadata names the deleted topic's id.
func (m *Manager) Delete(name string) error {
	if IsInternal(name) {
		return fmt.Errorf("%w: %q is internal", ErrInvalidTopic, name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.Get(name)
	if t == nil {
		return fmt.Errorf("%w: %q", ErrUnknownTopic, name)
	}
	if err := m.store.Commit(metadata.Record{Type: metadata.RecDeleteTopic, Topic: name}); err != nil {
		return err
	}
	m.publish(name, nil)
	var marked []string
	for _, p := range t.Partitions {
		if err := p.Close(); err != nil {
			m.cfg.Logger.Warn("topics: closing a deleted partition", "topic", name, "partition", p.Index, "err", err)
		}
		dir, err := m.markDeleted(partitionDirName(name, p.Index), t.ID)
		if err != nil {
			return err
		}
		marked = append(marked, dir)
	}
	for _, dir := range marked {
		if err := m.removeDir(path.Join(m.cfg.DataDir, dir)); err != nil {
			return err
		}
	}
	m.cfg.Logger.Info("topics: deleted", "topic", name, "id", t.ID.String())
	return nil
}

// checkDirsFree fails when a directory the named partitions would use is
// already on disk: one the catalog does not name (left in place at start),
// whose data a new topic must never pick up.
func (m *Manager) checkDirsFree(topic string, from, to int32) error {
	for i := from; i < to; i++ {
		dir := partitionDirName(topic, i)
		if _, _, err := m.fs.Stat(path.Join(m.cfg.DataDir, dir)); err == nil {
			return fmt.Errorf("directory %s of the data dir is not in the catalog; move it away to use this name", dir)
		}
	}
	return nil
}

// CreatePartitions grows a topic to count partitions.
func (m *Manager) CreatePartitions(name string, count int32, validateOnly bool) error {
	if IsInternal(name) {
		return fmt.Errorf("%w: %q is internal", ErrInvalidTopic, name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.Get(name)
	if t == nil {
		return fmt.Errorf("%w: %q", ErrUnknownTopic, name)
	}
	if count <= t.Topic.Partitions {
		return fmt.Errorf("%w: topic has %d partitions, asked for %d", ErrInvalidPartitions, t.Topic.Partitions, count)
	}
	if err := m.checkDirsFree(name, t.Topic.Partitions, count); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPartitions, err)
	}
	if validateOnly {
		return nil
	}
	if err := m.store.Commit(metadata.Record{Type: metadata.RecCreatePartitions, Topic: name, Partitions: count}); err != nil {
		return err
	}
	nt, err := m.openTopic(m.catalogTopic(name), t.Topic.Partitions)
	if err != nil {
		return err
	}
	m.publish(name, nt)
	return nil
}

// AlterConfigs changes topic keys (a nil value removes the key, falling
// back to the default) and applies them to the live partitions.
func (m *Manager) AlterConfigs(name string, changes map[string]*string, validateOnly bool) error {
	for k, v := range changes {
		if v == nil {
			if _, ok := metadata.Spec(k); !ok {
				return fmt.Errorf("%w: unknown topic config %q", ErrInvalidConfig, k)
			}
			continue
		}
		if err := metadata.ValidateConfig(k, *v); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.Get(name)
	if t == nil {
		return fmt.Errorf("%w: %q", ErrUnknownTopic, name)
	}
	if validateOnly || len(changes) == 0 {
		return nil
	}
	if err := m.store.Commit(metadata.Record{Type: metadata.RecAlterConfigs, Topic: name, Configs: changes}); err != nil {
		return err
	}
	nt := &Topic{Topic: m.catalogTopic(name), Partitions: t.Partitions}
	nt.Config = m.resolve(nt.Configs)
	pc := m.partitionConfig(nt.Config)
	for _, p := range nt.Partitions {
		p.SetConfig(pc)
	}
	m.publish(name, nt)
	return nil
}

// EffectiveConfig returns every known key of a topic with its value and
// whether the topic sets it (false: a default).
func (m *Manager) EffectiveConfig(t *Topic) []ConfigEntry {
	var out []ConfigEntry
	for _, s := range metadata.Specs() {
		e := ConfigEntry{Name: s.Name, Value: s.Default, Source: SourceDefault}
		if v, ok := m.cfg.Defaults[s.Name]; ok {
			e.Value, e.Source = v, SourceBroker
		}
		if v, ok := t.Configs[s.Name]; ok {
			e.Value, e.Source = v, SourceTopic
		}
		out = append(out, e)
	}
	return out
}

// ConfigSource says where a config value comes from.
type ConfigSource int

const (
	SourceDefault ConfigSource = iota
	SourceBroker
	SourceTopic
)

// ConfigEntry is one effective config value.
type ConfigEntry struct {
	Name   string
	Value  string
	Source ConfigSource
}
