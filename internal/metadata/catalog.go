package metadata

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"sluice/internal/acl"
	"sluice/internal/quota"
)

// errRecordVersion is a record written at a version before its type
// existed.
var errRecordVersion = errors.New("metadata: record older than its type")

// Topic is one topic's entry in the catalog.
type Topic struct {
	Name       string
	ID         TopicID
	Partitions int32
	Configs    map[string]string // only keys set explicitly; defaults are not stored
}

// State is the catalog as the records so far have built it. It is a plain
// value: Apply is the only thing that changes it.
type State struct {
	ClusterID      string
	NextProducerID int64 // first producer id never handed out
	topics         map[string]*Topic
	byID           map[TopicID]string
	// deleted holds the id and name of every deleted topic: a partition
	// directory may be removed only when it belongs to one of them.
	deleted map[TopicID]string
	// scram holds each user's SCRAM credentials by mechanism. A credential
	// is never changed in place, only replaced, so copies may share it.
	scram map[string]map[string]ScramCredential
	// acls holds the access control bindings, each once.
	acls map[acl.Binding]struct{}
	// quotas holds each entity's client quotas; an entity has at least
	// one key. A map is never changed in place, only replaced.
	quotas map[quota.Entity]map[string]float64
}

// NewState returns an empty catalog.
func NewState() *State {
	return &State{topics: map[string]*Topic{}, byID: map[TopicID]string{}, deleted: map[TopicID]string{}, scram: map[string]map[string]ScramCredential{}, acls: map[acl.Binding]struct{}{}, quotas: map[quota.Entity]map[string]float64{}}
}

// Apply changes the state by one record. It fails, changing nothing, for a
// record that does not fit the state (a duplicate topic, an unknown one).
func (s *State) Apply(r Record) error {
	if r.Version > recordVersion {
		return fmt.Errorf("metadata: record version %d is newer than this binary's %d", r.Version, recordVersion)
	}
	if r.Version < versionOf(r.Type) {
		return fmt.Errorf("%w: a %s record at version %d", errRecordVersion, r.Type, r.Version)
	}
	switch r.Type {
	case RecClusterID:
		s.ClusterID = r.ClusterID
	case RecProducerIDs:
		if r.NextProducerID <= s.NextProducerID {
			return fmt.Errorf("metadata: producer ids would go back from %d to %d", s.NextProducerID, r.NextProducerID)
		}
		s.NextProducerID = r.NextProducerID
	case RecCreateTopic:
		return s.applyCreate(r)
	case RecScram:
		return s.applyScram(r)
	case RecACLs:
		return s.applyACLs(r)
	case RecQuotas:
		return s.applyQuotas(r)
	case RecDeleteTopic:
		t, ok := s.topics[r.Topic]
		if !ok {
			return fmt.Errorf("metadata: delete of unknown topic %q", r.Topic)
		}
		delete(s.byID, t.ID)
		delete(s.topics, r.Topic)
		s.deleted[t.ID] = t.Name
	case RecCreatePartitions:
		t, ok := s.topics[r.Topic]
		if !ok || r.Partitions <= t.Partitions {
			return fmt.Errorf("metadata: bad partition count %d for topic %q", r.Partitions, r.Topic)
		}
		t.Partitions = r.Partitions
	case RecAlterConfigs:
		t, ok := s.topics[r.Topic]
		if !ok {
			return fmt.Errorf("metadata: configs for unknown topic %q", r.Topic)
		}
		applyConfigs(t.Configs, r.Configs)
	default:
		return fmt.Errorf("metadata: unknown record type %q", r.Type)
	}
	return nil
}

func (s *State) applyCreate(r Record) error {
	if _, ok := s.topics[r.Topic]; ok {
		return fmt.Errorf("metadata: topic %q exists", r.Topic)
	}
	if _, ok := s.deleted[r.TopicID]; ok {
		return fmt.Errorf("metadata: topic id %s of %q belongs to a deleted topic", r.TopicID, r.Topic)
	}
	if r.Partitions <= 0 || r.TopicID.IsZero() {
		return fmt.Errorf("metadata: topic %q needs partitions and an id", r.Topic)
	}
	t := &Topic{Name: r.Topic, ID: r.TopicID, Partitions: r.Partitions, Configs: map[string]string{}}
	applyConfigs(t.Configs, r.Configs)
	s.topics[r.Topic] = t
	s.byID[r.TopicID] = r.Topic
	return nil
}

func applyConfigs(dst map[string]string, changes map[string]*string) {
	for k, v := range changes {
		if v == nil {
			delete(dst, k)
		} else {
			dst[k] = *v
		}
	}
}

// Topic returns a copy of the named topic.
func (s *State) Topic(name string) (Topic, bool) {
	t, ok := s.topics[name]
	if !ok {
		return Topic{}, false
	}
	c := *t
	c.Configs = maps.Clone(t.Configs)
	return c, true
}

// TopicByID returns the name of the topic with the given id.
func (s *State) TopicByID(id TopicID) (string, bool) {
	n, ok := s.byID[id]
	return n, ok
}

// DeletedTopic returns the name of the deleted topic with the given id.
func (s *State) DeletedTopic(id TopicID) (string, bool) {
	n, ok := s.deleted[id]
	return n, ok
}

// TopicNames returns every topic name, sorted.
func (s *State) TopicNames() []string {
	return slices.Sorted(maps.Keys(s.topics))
}
