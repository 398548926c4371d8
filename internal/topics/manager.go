// Package topics keeps the live topics of the broker: it applies admin
// changes to the catalog (metadata.Store) and opens, grows, reconfigures
// and deletes the partitions that the catalog describes.
//
// Every admin change is committed to the catalog first and acted on
// second, so after a crash the catalog is the truth: start-up opens the
// partitions it names and removes directories it does not.
package topics

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sluice/internal/commitlog"
	"sluice/internal/metadata"
	"sluice/internal/partition"
	"sluice/internal/vfs"
)

// Errors the handlers map to Kafka error codes.
var (
	ErrTopicExists       = errors.New("topic already exists")
	ErrUnknownTopic      = errors.New("unknown topic")
	ErrInvalidTopic      = errors.New("invalid topic name")
	ErrInvalidPartitions = errors.New("invalid partition count")
	ErrInvalidReplicas   = errors.New("invalid replication factor")
	ErrInvalidConfig     = errors.New("invalid config")
)

// Config is what the manager needs from the broker.
type Config struct {
	DataDir       string
	Fsync         partition.FsyncPolicy
	FsyncInterval time.Duration
	Defaults      map[string]string // broker-level topic config defaults (e.g. from flags)
	Logger        *slog.Logger
	Clock         func() time.Time
}

// Topic is a live topic: its catalog entry, effective config and partitions.
// A Topic value is immutable once published; changes publish a new one.
type Topic struct {
	metadata.Topic
	Config     metadata.TopicConfig
	Partitions []*partition.Partition
}

// Manager owns the live topics.
type Manager struct {
	cfg   Config
	fs    vfs.FS
	store *metadata.Store

	mu     sync.Mutex                                  // serializes admin changes
	topics atomic.Pointer[map[string]*Topic]           // copy-on-write snapshot for readers
	byID   atomic.Pointer[map[metadata.TopicID]*Topic] // the same topics by id (Fetch v13+)
}

const catalogDir = "__sluice_catalog"

// Open loads the catalog from the data dir and opens every partition.
func Open(fsys vfs.FS, cfg Config) (*Manager, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	store, err := metadata.OpenStore(fsys, path.Join(cfg.DataDir, catalogDir), cfg.Logger)
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, fs: fsys, store: store}
	m.publishAll(map[string]*Topic{})
	if err := m.ensureClusterID(); err != nil {
		return nil, err
	}
	if err := m.openAll(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Manager) ensureClusterID() error {
	var id string
	m.store.Read(func(s *metadata.State) { id = s.ClusterID })
	if id != "" {
		return nil
	}
	return m.store.Commit(metadata.Record{Type: metadata.RecClusterID, ClusterID: "sluice-" + randomHex(8)})
}

// AllocateProducerIDs hands out a durable block of n producer ids.
func (m *Manager) AllocateProducerIDs(n int64) (int64, error) { return m.store.AllocateProducerIDs(n) }

// ProducerIDHighMark is the first producer id never handed out: every id
// below it was given to some producer.
func (m *Manager) ProducerIDHighMark() int64 {
	var n int64
	m.store.Read(func(s *metadata.State) { n = s.NextProducerID })
	return n
}

// ClusterID is the id generated when the data dir was first used.
func (m *Manager) ClusterID() string {
	var id string
	m.store.Read(func(s *metadata.State) { id = s.ClusterID })
	return id
}

func (m *Manager) openAll() error {
	var entries []metadata.Topic
	m.store.Read(func(s *metadata.State) {
		for _, n := range s.TopicNames() {
			t, _ := s.Topic(n)
			entries = append(entries, t)
		}
	})
	live := map[string]*Topic{}
	for _, e := range entries {
		t, err := m.openTopic(e, 0)
		if err != nil {
			return err
		}
		live[e.Name] = t
	}
	m.publishAll(live)
	return m.removeOrphans(live)
}

// openTopic opens partitions [from, e.Partitions) of a topic; partitions
// below from are taken from the current live topic.
func (m *Manager) openTopic(e metadata.Topic, from int32) (*Topic, error) {
	t := &Topic{Topic: e, Config: m.resolve(e.Configs)}
	if old := m.Get(e.Name); old != nil && from > 0 {
		t.Partitions = append(t.Partitions, old.Partitions[:from]...)
	}
	for i := from; i < e.Partitions; i++ {
		p, err := m.openPartition(e.Name, i, t.Config)
		if err != nil {
			return nil, err
		}
		t.Partitions = append(t.Partitions, p)
	}
	return t, nil
}

func (m *Manager) openPartition(topic string, i int32, tc metadata.TopicConfig) (*partition.Partition, error) {
	pc := m.partitionConfig(tc)
	log, err := commitlog.Open(m.fs, m.partitionDir(topic, i), pc.Log)
	if err != nil {
		return nil, fmt.Errorf("open %s-%d: %w", topic, i, err)
	}
	p, err := partition.Open(log, topic, i, pc, m.cfg.Clock)
	if err != nil {
		log.Close()
		return nil, fmt.Errorf("open %s-%d: %w", topic, i, err)
	}
	return p, nil
}

func (m *Manager) partitionDir(topic string, i int32) string {
	return path.Join(m.cfg.DataDir, topic+"-"+strconv.Itoa(int(i)))
}

func (m *Manager) resolve(set map[string]string) metadata.TopicConfig {
	merged := maps.Clone(m.cfg.Defaults)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, set)
	return metadata.Resolve(merged)
}

func (m *Manager) partitionConfig(tc metadata.TopicConfig) partition.Config {
	return partition.Config{
		Log:             logConfig(tc, m.cfg.Logger),
		Compaction:      compaction(tc),
		Fsync:           m.cfg.Fsync,
		FsyncInterval:   m.cfg.FsyncInterval,
		MaxMessageBytes: tc.MaxMessageBytes,
		LogAppendTime:   tc.LogAppendTime,
		Logger:          m.cfg.Logger,
		FS:              m.fs,
	}
}

// removeOrphans deletes partition directories the catalog does not name:
// the remains of a delete that a crash interrupted.
func (m *Manager) removeOrphans(live map[string]*Topic) error {
	names, err := m.fs.ReadDir(m.cfg.DataDir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if n == catalogDir || isLiveDir(live, n) {
			continue
		}
		m.cfg.Logger.Warn("topics: removing directory of a deleted topic", "dir", n)
		if err := m.removeDir(path.Join(m.cfg.DataDir, n)); err != nil {
			return err
		}
	}
	return nil
}

func isLiveDir(live map[string]*Topic, dir string) bool {
	i := strings.LastIndexByte(dir, '-')
	if i < 0 {
		return false
	}
	t, ok := live[dir[:i]]
	if !ok {
		return false
	}
	n, err := strconv.Atoi(dir[i+1:])
	return err == nil && n >= 0 && n < len(t.Partitions)
}

func (m *Manager) removeDir(dir string) error {
	names, err := m.fs.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := m.fs.Remove(path.Join(dir, n)); err != nil {
			return err
		}
	}
	if err := m.fs.Remove(dir); err != nil {
		return err
	}
	return m.fs.SyncDir(m.cfg.DataDir)
}

// Get returns the live topic, or nil.
func (m *Manager) Get(name string) *Topic {
	return (*m.topics.Load())[name]
}

// Partition returns a live partition, or nil.
func (m *Manager) Partition(topic string, p int32) *partition.Partition {
	t := m.Get(topic)
	if t == nil || p < 0 || int(p) >= len(t.Partitions) {
		return nil
	}
	return t.Partitions[p]
}

// GetByID returns the live topic with the given id, or nil.
func (m *Manager) GetByID(id metadata.TopicID) *Topic {
	return (*m.byID.Load())[id]
}

// All returns every live topic (a snapshot; do not modify).
func (m *Manager) All() map[string]*Topic { return *m.topics.Load() }

func (m *Manager) publish(name string, t *Topic) {
	next := maps.Clone(*m.topics.Load())
	if t == nil {
		delete(next, name)
	} else {
		next[name] = t
	}
	m.publishAll(next)
}

// publishAll publishes both snapshots. Requires m.mu (or no readers yet).
func (m *Manager) publishAll(byName map[string]*Topic) {
	byID := make(map[metadata.TopicID]*Topic, len(byName))
	for _, t := range byName {
		byID[t.ID] = t
	}
	m.topics.Store(&byName)
	m.byID.Store(&byID)
}

// Close closes every partition and the catalog.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, t := range *m.topics.Load() {
		for _, p := range t.Partitions {
			errs = append(errs, p.Close())
		}
	}
	errs = append(errs, m.store.Close())
	return errors.Join(errs...)
}

// EnforceRetention applies retention.ms and retention.bytes to every
// partition, forgets idle idempotent producers, and returns how many
// segments were deleted.
func (m *Manager) EnforceRetention(now time.Time) int {
	n := 0
	for _, t := range m.All() {
		for _, p := range t.Partitions {
			d, err := p.EnforceRetention(now)
			if err != nil {
				m.cfg.Logger.Error("topics: retention failed", "topic", t.Name, "partition", p.Index, "err", err)
			}
			n += d
			p.ExpireProducers(now.UnixMilli())
		}
	}
	return n
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func newTopicID() metadata.TopicID {
	var id metadata.TopicID
	_, _ = rand.Read(id[:])
	id[6] = (id[6] & 0x0f) | 0x40 // version 4
	id[8] = (id[8] & 0x3f) | 0x80 // variant
	return id
}
