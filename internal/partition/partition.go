// Package partition gives one partition its append and fetch semantics on
// top of its commit log: offset assignment, the high watermark, group
// commit and the waiters of long-poll fetches and acks=all produces.
//
// The append pipeline, in order:
//
//  1. Append takes p.mu, assigns the batch's base offset (the log end
//     offset), stamps the leader epoch (epoch.go) and, for LogAppendTime
//     topics, the append time; then writes the batch to the active segment and
//     releases p.mu. The log end offset (LEO) has moved; the high
//     watermark (HW) has not.
//  2. Under fsync=always, a sync reads the LEO, calls log.Sync, and only
//     then moves the HW to that LEO and wakes the waiters (sync.go). The
//     sync is run by whoever waits for the batch (MakeDurable, WaitDurable;
//     AppendAwaited leaves it to them), or, for appends nobody waits for,
//     by the partition's flusher goroutine. One sync runs at a time;
//     appends that arrive while it runs are covered by the next one:
//     concurrent appends share one fsync (group commit).
//  3. acks=all waits (MakeDurable) until HW >= the batch's next offset;
//     acks=1 returns after step 1.
//
// Readers see only offsets below the HW, so under fsync=always a consumer
// never reads a record that a crash could take away. Under fsync=interval
// and fsync=never the HW moves with the LEO at step 1 (see
// docs/durability.md for what those policies can lose).
//
// Locks: p.mu serializes appends and guards nothing else; p.hwMu guards the
// HW, the sticky error and the waiters. p.mu may be held while taking
// p.hwMu, never the reverse.
package partition

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"sluice/internal/commitlog"
	"sluice/internal/journal"
	"sluice/internal/producerstate"
	"sluice/internal/vfs"
)

// FsyncPolicy says when appended data is synced to disk.
type FsyncPolicy int

const (
	FsyncAlways   FsyncPolicy = iota // sync before the HW moves and before acks=all is answered
	FsyncInterval                    // sync every Config.FsyncInterval; HW moves on append
	FsyncNever                       // sync only on roll and close; HW moves on append
)

// DefaultFsyncInterval is the sync period of fsync=interval unless the
// broker is told otherwise: what that policy can lose (docs/durability.md).
const DefaultFsyncInterval = time.Second

// ParseFsyncPolicy parses "always", "interval" or "never".
func ParseFsyncPolicy(s string) (FsyncPolicy, error) {
	switch s {
	case "always":
		return FsyncAlways, nil
	case "interval":
		return FsyncInterval, nil
	case "never":
		return FsyncNever, nil
	}
	return 0, fmt.Errorf("fsync policy %q: want always, interval or never", s)
}

func (f FsyncPolicy) String() string {
	return [...]string{"always", "interval", "never"}[f]
}

// ErrClosed is returned by operations on a closed partition.
var ErrClosed = errors.New("partition: closed")

// Config is what a partition needs to know from its topic and the broker.
type Config struct {
	Log             commitlog.Config
	Fsync           FsyncPolicy
	FsyncInterval   time.Duration // for FsyncInterval; 0 => DefaultFsyncInterval
	MaxMessageBytes int32
	LogAppendTime   bool
	Compaction      Compaction // cleanup.policy=compact settings
	Logger          *slog.Logger
	// ProducerExpirationMs is producer.id.expiration.ms; 0 => 1 day.
	ProducerExpirationMs int64
	// FS, when set, is where the producer-state snapshot is kept beside the
	// log (written at Close, read at Open).
	FS vfs.FS
	// Journal, under fsync=always, is the log shared by the broker's
	// partitions that every append is also written to, under JournalKey:
	// a durable wait syncs it rather than the partition's segments, which
	// its checkpoints sync (journal.go). nil: the partition syncs its own
	// segments. Fixed at Open.
	Journal    Journal
	JournalKey journal.Key
	// JournalBelow: with a journal, a batch goes through it while the
	// partition's batches average less than this many bytes (journal.go).
	// 0 => DefaultJournalBelow; negative: every batch.
	JournalBelow int
	// Replay is what the journal held for this partition at the start:
	// Open appends again the batches past the recovered log end. Used
	// only by Open.
	Replay []journal.Entry
}

// Partition is one partition of a topic.
type Partition struct {
	Topic string
	Index int32

	log    *commitlog.Log
	clock  func() time.Time
	logger *slog.Logger

	fsync         FsyncPolicy   // broker-wide, fixed at Open: read on the append path without a lock
	fsyncInterval time.Duration // fixed at Open

	mu        sync.Mutex           // serializes appends
	cfg       Config               // guarded by mu for writes; read under mu on the append path
	producers *producerstate.State // idempotent producers' sequences; guarded by mu
	segments  int                  // the log's segment count at the last append; guarded by mu
	// maxMessageBytes mirrors cfg.MaxMessageBytes for the produce path's
	// size check, which must not wait behind an append holding mu.
	maxMessageBytes atomic.Int32
	// epoch is the leader epoch stamped on appended batches; written
	// under mu by BeginLeaderEpoch, read without it (epoch.go).
	epoch atomic.Int32

	hwMu sync.Mutex
	hw   int64
	// openFirst is the first offset of the oldest open transaction, -1
	// for none; undecided are transactions whose markers the HW has not
	// passed yet (txn.go). Both written under p.mu and p.hwMu.
	openFirst int64
	undecided []decidedTxn
	err       error // sticky storage error; guarded by hwMu
	watchers  map[chan<- struct{}]struct{}
	closed    bool
	slot      syncSlot // the sync running under fsync=always (sync.go); guarded by hwMu
	// jleo and jpos: the log end offset after the last journaled append
	// and the journal position its record ends at; segFrom and segLast:
	// the base offset of the first batch written to the segment alone
	// that may not be durable yet, and the log end after the last such
	// batch (-1: none). journal.go; guarded by hwMu.
	jleo, jpos       int64
	segFrom, segLast int64
	// journaling and avgBatch: whether appends go through the journal,
	// and the running average batch size that decides it; guarded by mu.
	journaling bool
	avgBatch   int64

	journal    Journal // fixed at Open; nil unless fsync=always with a journal
	journalKey journal.Key

	flushReq  chan struct{} // buffered 1: a sync is wanted
	flushDone chan struct{} // closed when the flusher exits
	stop      chan struct{}
}

// Open wraps a recovered log and starts its flusher. It appends again
// the journal's batches the log lacks (cfg.Replay), then syncs the log:
// whatever recovery kept or replayed becomes durable before any reader
// can see it, since the HW starts at the log end.
func Open(log *commitlog.Log, topic string, index int32, cfg Config, clock func() time.Time) (*Partition, error) {
	if cfg.FsyncInterval <= 0 {
		cfg.FsyncInterval = DefaultFsyncInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Partition{
		Topic: topic, Index: index, log: log, clock: clock, cfg: cfg, logger: cfg.Logger, fsyncInterval: cfg.FsyncInterval, fsync: cfg.Fsync,
		hw:        log.NextOffset(),
		openFirst: -1,
		segFrom:   -1, segLast: -1,
		watchers:  map[chan<- struct{}]struct{}{},
		flushReq:  make(chan struct{}, 1),
		flushDone: make(chan struct{}),
		stop:      make(chan struct{}),
	}
	if err := p.loadProducers(cfg.FS); err != nil {
		return nil, err
	}
	// After the producers: a snapshot is trusted only up to the log end
	// recovery found (see snapshotOnRollLocked), and the replay applies
	// each batch to the state as the log's own replay does.
	if err := p.replayJournal(cfg.Replay); err != nil {
		return nil, err
	}
	if err := log.Sync(); err != nil {
		return nil, err
	}
	p.hw = log.NextOffset()
	if cfg.Fsync == FsyncAlways && cfg.Journal != nil {
		p.journal, p.journalKey = cfg.Journal, cfg.JournalKey
		p.journaling = true // until batches show they are large
	}
	p.cfg.Replay = nil // not kept: the batches are in the log now
	if err := p.beginNextEpoch(); err != nil {
		return nil, err
	}
	p.trackTxnLocked(nil)
	p.segments = log.Segments()
	p.maxMessageBytes.Store(cfg.MaxMessageBytes)
	go p.flusher()
	return p, nil
}

// SetConfig changes the topic-level settings at run time.
func (p *Partition) SetConfig(cfg Config) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cfg.FsyncInterval <= 0 {
		cfg.FsyncInterval = p.cfg.FsyncInterval
	}
	cfg.FS, cfg.ProducerExpirationMs, cfg.Fsync = p.cfg.FS, p.cfg.ProducerExpirationMs, p.fsync // fixed at Open
	p.cfg = cfg
	p.maxMessageBytes.Store(cfg.MaxMessageBytes)
	p.log.SetConfig(cfg.Log)
}

// HighWatermark returns the offset below which records are readable.
func (p *Partition) HighWatermark() int64 {
	p.hwMu.Lock()
	defer p.hwMu.Unlock()
	return p.hw
}

// StartOffset returns the log start offset.
func (p *Partition) StartOffset() int64 { return p.log.StartOffset() }

// Err returns the sticky storage error, if any.
func (p *Partition) Err() error {
	p.hwMu.Lock()
	defer p.hwMu.Unlock()
	return p.err
}

// MaxMessageBytes returns the topic's max.message.bytes.
func (p *Partition) MaxMessageBytes() int32 { return p.maxMessageBytes.Load() }
