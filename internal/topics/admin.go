package topics

import (
	"fmt"
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

// IsInternal reports whether a topic belongs to the broker: clients may
// read it, but only the broker writes it and nobody deletes it.
func IsInternal(name string) bool { return name == OffsetsTopic }

// EnsureInternal creates an internal topic if it does not exist yet and
// returns it. Internal topics keep their data until the broker compacts it
// (no time or size retention).
func (m *Manager) EnsureInternal(name string, partitions int32, configs map[string]string) (*Topic, error) {
	if t := m.Get(name); t != nil {
		return t, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := metadata.Record{Type: metadata.RecCreateTopic, Topic: name, TopicID: newTopicID(), Partitions: partitions, Configs: ptrs(configs)}
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

// CreateRequest is a topic to create.
type CreateRequest struct {
	Name              string
	Partitions        int32 // -1: the broker default
	ReplicationFactor int16 // -1: the broker default (1)
	Configs           map[string]string
	ValidateOnly      bool
}

// DefaultPartitions is num.partitions when a request leaves it to the broker.
const DefaultPartitions = 1

// Create validates and (unless ValidateOnly) creates a topic. It returns the
// created topic (nil when only validating).
func (m *Manager) Create(r CreateRequest) (*Topic, error) {
	if err := ValidateName(r.Name); err != nil {
		return nil, err
	}
	if r.Partitions == -1 {
		r.Partitions = DefaultPartitions
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

// Delete deletes a topic: the catalog record first, then its partitions
// are closed and their directories removed.
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
	for _, p := range t.Partitions {
		if err := p.Close(); err != nil {
			m.cfg.Logger.Warn("topics: closing a deleted partition", "topic", name, "partition", p.Index, "err", err)
		}
		if err := m.removeDir(m.partitionDir(name, p.Index)); err != nil {
			return err
		}
	}
	m.cfg.Logger.Info("topics: deleted", "topic", name)
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
