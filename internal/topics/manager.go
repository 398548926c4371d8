// Package topics keeps the live topics of the broker: it applies admin
// changes to the catalog (metadata.Store) and opens, grows, reconfigures
// and deletes the partitions that the catalog describes.
//
// Every admin change is committed to the catalog first and acted on
// second, so after a crash the catalog is the truth: start-up opens the
// partitions it names, finishes the deletions it records, and leaves
// everything else in place (see partitiondir.go and survey.go).
package topics

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"sluice/internal/commitlog"
	"sluice/internal/journal"
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
	// NoPreallocate is log.preallocate=false: segment files grow with
	// each append instead of ahead of them (commitlog/preallocate.go).
	NoPreallocate bool
	// Journal, under fsync=always, writes small batches of
	// multi-partition requests also to the journal the partitions share
	// and makes acks=all durable by syncing it (package journal,
	// partition/journal.go). Whatever the setting, a journal a crash left
	// is replayed at the start. JournalBelow is partition.Config's (0:
	// its default; negative: every batch, for tests).
	Journal      bool
	JournalBelow int
	Defaults     map[string]string // broker-level topic config defaults (e.g. from flags)
	// DefaultPartitions is num.partitions: the partitions of a topic
	// created without a count; 0 means 1.
	DefaultPartitions int32
	Logger            *slog.Logger
	Clock             func() time.Time
	// RecoverCatalog opens a damaged catalog with the records before the
	// damage (saving the damaged file) and registers again the topics
	// whose partition directories it no longer names.
	RecoverCatalog bool
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

	// cleanStart: the previous run shut down cleanly, so recovery treats
	// any unreadable batch as damage (see shutdown.go). Only during Open.
	cleanStart bool
	// replay is what the journal held at the start, for the partitions
	// Open opens; nil afterwards.
	replay  *journal.Recovered
	journal *journal.Journal // nil without one

	mu     sync.Mutex                                  // serializes admin changes
	topics atomic.Pointer[map[string]*Topic]           // copy-on-write snapshot for readers
	byID   atomic.Pointer[map[metadata.TopicID]*Topic] // the same topics by id (Fetch v13+)
}

const (
	catalogDir = "__sluice_catalog"
	journalDir = "__sluice_journal"
)

// Open loads the catalog from the data dir and opens every partition.
func Open(fsys vfs.FS, cfg Config) (*Manager, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.DefaultPartitions <= 0 {
		cfg.DefaultPartitions = 1
	}
	store, err := metadata.OpenStore(fsys, path.Join(cfg.DataDir, catalogDir),
		metadata.Options{Recover: cfg.RecoverCatalog, Logger: cfg.Logger, Clock: cfg.Clock})
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, fs: fsys, store: store}
	m.publishAll(map[string]*Topic{})
	if err := m.ensureClusterID(); err != nil {
		store.Close()
		return nil, err
	}
	if m.cleanStart, err = m.cleanShutdownMarked(); err != nil {
		store.Close()
		return nil, err
	}
	if err := m.openJournal(); err != nil {
		store.Close()
		return nil, err
	}
	if err := m.openAll(); err != nil {
		m.close(false)
		return nil, err
	}
	if err := m.startJournal(); err != nil {
		m.close(false)
		return nil, err
	}
	if err := m.unmarkCleanShutdown(); err != nil {
		m.close(false)
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

// RaiseProducerIDs makes sure no id below atLeast is handed out again
// (metadata.Store.RaiseProducerIDs).
func (m *Manager) RaiseProducerIDs(atLeast int64) (bool, error) {
	return m.store.RaiseProducerIDs(atLeast)
}

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
	var sv *survey
	var err error
	m.store.Read(func(s *metadata.State) { sv, err = m.surveyDataDir(s) })
	if err != nil {
		return err
	}
	if m.cfg.RecoverCatalog {
		if err := m.adoptOrphans(sv); err != nil {
			return err
		}
	}
	if err := m.settle(sv); err != nil {
		return err
	}
	var entries []metadata.Topic
	m.store.Read(func(s *metadata.State) {
		for _, n := range s.TopicNames() {
			t, _ := s.Topic(n)
			entries = append(entries, t)
		}
	})
	live := map[string]*Topic{}
	for _, e := range entries {
		for i := range e.Partitions {
			if dir := partitionDirName(e.Name, i); !sv.live[dir] {
				m.cfg.Logger.Warn("topics: partition directory missing; creating it empty", "dir", dir, "topic", e.Name, "id", e.ID.String())
			}
		}
		t, err := m.openTopic(e, 0)
		if err != nil {
			return err
		}
		live[e.Name] = t
	}
	m.publishAll(live)
	return nil
}

// openTopic opens partitions [from, e.Partitions) of a topic; partitions
// below from are taken from the current live topic.
func (m *Manager) openTopic(e metadata.Topic, from int32) (*Topic, error) {
	t := &Topic{Topic: e, Config: m.resolve(e.Configs)}
	if old := m.Get(e.Name); old != nil && from > 0 {
		t.Partitions = append(t.Partitions, old.Partitions[:from]...)
	}
	for i := from; i < e.Partitions; i++ {
		p, err := m.openPartition(e, i, t.Config)
		if err != nil {
			return nil, err
		}
		t.Partitions = append(t.Partitions, p)
	}
	return t, nil
}

func (m *Manager) openPartition(e metadata.Topic, i int32, tc metadata.TopicConfig) (*partition.Partition, error) {
	pc := m.partitionConfig(tc)
	dir := m.partitionDir(e.Name, i)
	log, err := commitlog.Open(m.fs, dir, pc.Log)
	if err != nil {
		return nil, fmt.Errorf("open %s-%d: %w", e.Name, i, err)
	}
	if err := m.ensurePartitionMeta(dir, e, i); err != nil {
		log.Close()
		return nil, fmt.Errorf("open %s-%d: %w", e.Name, i, err)
	}
	pc.JournalKey = journalKey(e.ID, i)
	if m.replay != nil {
		pc.Replay = m.replay.For(pc.JournalKey)
	}
	p, err := partition.Open(log, e.Name, i, pc, m.cfg.Clock)
	if err != nil {
		log.Close()
		return nil, fmt.Errorf("open %s-%d: %w", e.Name, i, err)
	}
	return p, nil
}

// ensurePartitionMeta writes the directory's partition.metadata if it
// has none yet. The survey has already checked any existing one.
func (m *Manager) ensurePartitionMeta(dir string, e metadata.Topic, i int32) error {
	if _, ok, err := readPartitionMeta(m.fs, dir); ok || err != nil {
		return err
	}
	return writePartitionMeta(m.fs, dir, partitionMeta{Topic: e.Name, TopicID: e.ID, Partition: i})
}

func (m *Manager) partitionDir(topic string, i int32) string {
	return path.Join(m.cfg.DataDir, partitionDirName(topic, i))
}

func (m *Manager) resolve(set map[string]string) metadata.TopicConfig {
	merged := maps.Clone(m.cfg.Defaults)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, set)
	return metadata.Resolve(merged)
}

// logConfig is the commit log's config for a topic; recovery is strict
// while opening after a clean shutdown.
func (m *Manager) logConfig(tc metadata.TopicConfig) commitlog.Config {
	c := logConfig(tc, m.cfg.Logger)
	c.CleanShutdown = m.cleanStart
	// With the journal, acks=all waits for its fsync, not the segments':
	// theirs come in bulk at checkpoints, where preallocating saves
	// nothing (commitlog/preallocate.go).
	if m.cfg.NoPreallocate || m.journalOn() {
		c.PreallocateBytes = -1
	}
	return c
}

func (m *Manager) partitionConfig(tc metadata.TopicConfig) partition.Config {
	return partition.Config{
		Log:             m.logConfig(tc),
		Compaction:      compaction(tc),
		Fsync:           m.cfg.Fsync,
		FsyncInterval:   m.cfg.FsyncInterval,
		MaxMessageBytes: tc.MaxMessageBytes,
		LogAppendTime:   tc.LogAppendTime,
		Logger:          m.cfg.Logger,
		FS:              m.fs,
		Journal:         m.partitionJournal(),
		JournalBelow:    m.cfg.JournalBelow,
	}
}

// removeDir removes a directory marked for deletion with its files.
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

// LeaderEpoch returns the leader epoch of a live partition.
func (m *Manager) LeaderEpoch(topic string, p int32) (int32, bool) {
	if part := m.Partition(topic, p); part != nil {
		return part.LeaderEpoch(), true
	}
	return 0, false
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
func (m *Manager) Close() error { return m.close(true) }

// close closes every partition and the catalog; with markClean, and when
// every partition closed (synced) without error, it records a clean
// shutdown for the next start.
func (m *Manager) close(markClean bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, t := range *m.topics.Load() {
		for _, p := range t.Partitions {
			errs = append(errs, p.Close())
		}
	}
	clean := errors.Join(errs...) == nil
	if m.journal != nil {
		// Clean: every partition synced its segments at Close, so the
		// journal holds nothing the next start needs.
		errs = append(errs, m.journal.Close(clean))
	}
	if err := errors.Join(errs...); err == nil && markClean {
		errs = append(errs, m.markCleanShutdown())
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
