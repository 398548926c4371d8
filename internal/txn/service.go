package txn

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"sluice/internal/partition"
	"sluice/internal/recordbatch"
)

// ServiceConfig configures the transaction service. Zero values take the
// documented defaults.
type ServiceConfig struct {
	Coordinator Config
	Logger      *slog.Logger
	Clock       func() time.Time
	// Observer is told how transactions end (the broker's metrics); nil:
	// nobody.
	Observer Observer
	// OpenTxns are the transactions the partitions hold open at start,
	// for NewService to reconcile with the log (see Reconcile).
	OpenTxns []OpenTxn
}

// OpenTxn is a transaction a partition holds open: its producer's data
// from FirstOffset on awaits a marker.
type OpenTxn struct {
	TP          TopicPartition
	ProducerID  int64
	Epoch       int16
	FirstOffset int64
}

// Observer is told how transactions end.
type Observer interface {
	// Decided: a transaction's commit or abort is durable in the
	// transaction log; its markers follow.
	Decided(commit bool)
	// TimedOut: the coordinator aborts a transaction past its timeout
	// (its Decided(false) follows once durable).
	TimedOut()
}

type noObserver struct{}

func (noObserver) Decided(bool) {}
func (noObserver) TimedOut()    {}

func (c *ServiceConfig) setDefaults() {
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// MarkerWriter writes one transaction marker to a partition and returns
// once it is durable. The broker routes markers for the consumer-offsets
// topic to the group service, which then applies or drops the
// transaction's offsets.
type MarkerWriter interface {
	WriteMarker(ctx context.Context, tp TopicPartition, m recordbatch.ControlMarker) error
}

// Service is the thin loop around the coordinators: one shard per
// partition of the internal __transaction_state topic (an id maps to one
// by hash), each with its own lock, coordinator and log, so that ids of
// different partitions are decided, appended and synced in parallel (and
// each shard is what one partition's leader will own under replication).
// The service owns the clock, the timer and the writing of markers.
//
// Ordering: a transition is decided under its shard's lock, appended to
// the shard's log partition, and applied to the coordinator only once
// durable; the reply waits for that. For a Prepare transition the markers
// are written after it is durable, in the background, and then the
// Complete transition.
type Service struct {
	cfg     ServiceConfig
	shards  []*shard
	markers MarkerWriter

	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup
	kick   chan struct{}
}

// shard is one log partition and the coordinator of the ids it holds.
type shard struct {
	part *partition.Partition

	mu    sync.Mutex
	coord *Coordinator
	// changed is closed, and replaced, whenever a transition is applied:
	// what a caller told CONCURRENT_TRANSACTIONS may wait on.
	changed chan struct{}
}

// NewService replays the transaction log, starts writing the markers of
// every transaction found prepared, and starts the timer loop.
func NewService(cfg ServiceConfig, parts []*partition.Partition, ids IDSource, markers MarkerWriter) (*Service, error) {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{cfg: cfg, markers: markers, ctx: ctx, cancel: cancel, kick: make(chan struct{}, 1)}
	for _, p := range parts {
		sh := &shard{part: p, coord: New(cfg.Coordinator, ids), changed: make(chan struct{})}
		if err := sh.replay(); err != nil {
			cancel()
			return nil, err
		}
		s.shards = append(s.shards, sh)
	}
	// Before any marker is written: a transaction completed meanwhile
	// would look like one whose add was lost.
	for _, o := range cfg.OpenTxns {
		s.reconcile(o)
	}
	for _, sh := range s.shards {
		for _, m := range sh.coord.Recover() {
			s.cfg.Logger.Info("txn: completing a transaction found prepared", "transactionalId", m.TxnID, "commit", m.Commit, "partitions", len(m.Partitions))
			s.completeAsync(m)
		}
	}
	s.bg.Add(1)
	go s.loop()
	return s, nil
}

// replay loads every record of the shard's log partition, in order.
func (sh *shard) replay() error {
	p := sh.part
	off := p.StartOffset()
	for off < p.HighWatermark() {
		res, err := p.Read(off, 1<<20, nil)
		if err != nil {
			return err
		}
		if len(res.Records) == 0 {
			return nil
		}
		for buf := res.Records; len(buf) > 0; {
			b, err := recordbatch.Frame(buf)
			if err != nil {
				return err
			}
			var derr error
			if err := b.EachRecord(func(_ int64, k, v []byte) bool {
				var t Txn
				if t, derr = DecodeRecord(k, v); derr == nil {
					sh.coord.Load(t)
				}
				return derr == nil
			}); err != nil {
				return err
			}
			if derr != nil {
				return derr
			}
			off = b.NextOffset()
			buf = buf[len(b):]
		}
	}
	return nil
}

// shardFor maps a transactional id to its log partition's shard.
func (s *Service) shardFor(id string) *shard {
	h := fnv.New32a()
	h.Write([]byte(id))
	return s.shards[h.Sum32()%uint32(len(s.shards))]
}

// Close stops the loop and waits for marker writing in progress; a
// transaction left prepared is completed at the next start.
func (s *Service) Close() {
	s.cancel()
	s.bg.Wait()
}

// run decides an event under the lock and appends its transition to the
// log at once, so transitions reach the log in the order they were
// decided. The returned wait makes the transition durable, applies it,
// starts its markers, and gives the reply; handlers defer it so that the
// connection reads on meanwhile.
func (s *Service) run(id string, decide func(c *Coordinator, now int64) Outcome) (wait func() Outcome) {
	sh := s.shardFor(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return s.runLocked(sh, id, decide(sh.coord, s.cfg.Clock().UnixMilli()))
}

// runLocked appends a decided outcome's transition and returns run's
// wait. Requires sh.mu.
func (s *Service) runLocked(sh *shard, id string, o Outcome) (wait func() Outcome) {
	if o.Write == nil {
		return func() Outcome { return o }
	}
	if completes(*o.Write) {
		return s.completeLocked(sh, id, o)
	}
	_, wait = s.startLocked(sh, id, o)
	return wait
}

// startLocked appends a decided, non-Complete transition and returns the
// offset its record is durable at, and run's wait. Requires sh.mu.
func (s *Service) startLocked(sh *shard, id string, o Outcome) (durableAt int64, wait func() Outcome) {
	p := sh.part
	next, err := sh.appendLocked(*o.Write, s.cfg.Clock().UnixMilli(), p.Append)
	return next, func() Outcome {
		// The durable wait is not bound to the request: once appended,
		// the record may be replayed at the next start, so the
		// coordinator must learn its fate, not forget it because a
		// client left.
		if err == nil {
			err = p.WaitDurable(s.ctx, next)
		}
		sh.mu.Lock()
		if err != nil {
			sh.coord.Failed(id)
		} else {
			sh.applyLocked(*o.Write)
		}
		sh.mu.Unlock()
		if err != nil {
			s.cfg.Logger.Warn("txn: writing the transaction log failed", "transactionalId", id, "err", err)
			return Outcome{Err: kerr.CoordinatorNotAvailable, ProducerID: -1, Epoch: -1}
		}
		if o.Markers != nil {
			s.cfg.Observer.Decided(o.Markers.Commit)
			s.completeAsync(o.Markers)
		}
		s.wake()
		return o
	}
}

// completeLocked appends a Complete transition and applies it at once,
// without waiting for it to be durable: it answers no client, and
// whatever follows it for the id is appended after it to the same log
// partition, so by the time anything that follows is durable, and
// answered, so is it. If a crash takes it, the transaction is found
// prepared and its markers are written again, which changes nothing.
// Not waiting lets the producer's next transaction start at once and
// share the fsync of its first record, and the Complete record costs no
// fsync of its own. Requires sh.mu.
func (s *Service) completeLocked(sh *shard, id string, o Outcome) (wait func() Outcome) {
	if _, err := sh.appendLocked(*o.Write, s.cfg.Clock().UnixMilli(), sh.part.AppendDeferred); err != nil {
		sh.coord.Failed(id)
		s.cfg.Logger.Warn("txn: writing the transaction log failed", "transactionalId", id, "err", err)
		return func() Outcome { return Outcome{Err: kerr.CoordinatorNotAvailable, ProducerID: -1, Epoch: -1} }
	}
	sh.applyLocked(*o.Write)
	s.wake()
	return func() Outcome { return o }
}

// completes reports whether a transition is a Complete one.
func completes(t Txn) bool { return t.State == CompleteCommit || t.State == CompleteAbort }

// applyLocked applies a transition and wakes those waiting for a change.
// Requires sh.mu.
func (sh *shard) applyLocked(t Txn) {
	sh.coord.Applied(t)
	close(sh.changed)
	sh.changed = make(chan struct{})
}

// appendLocked appends t's record to the shard's log partition and
// returns the offset it is durable at. Requires sh.mu.
func (sh *shard) appendLocked(t Txn, now int64, appendBatch func(recordbatch.Batch) (partition.AppendResult, error)) (int64, error) {
	key, value := EncodeRecord(t)
	res, err := appendBatch(recordbatch.Build(nil, []recordbatch.Record{{Key: key, Value: value}}, now, 0))
	return res.NextOffset, err
}

// completeAsync writes a decided transaction's markers to every partition
// in the background, then its Complete transition. A failure is retried
// with backoff until it succeeds or the service closes: a decided
// transaction must reach every partition.
func (s *Service) completeAsync(m *Markers) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 5*time.Second) {
			err := s.complete(m)
			if err == nil || s.ctx.Err() != nil {
				return
			}
			s.cfg.Logger.Warn("txn: writing markers failed; retrying", "transactionalId", m.TxnID, "err", err, "in", backoff.String())
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(backoff):
			}
		}
	}()
}

// complete writes m's markers, each carrying the coordinator epoch: the
// leader epoch of the id's transaction-state partition, as Kafka stamps
// it, so that a marker from a coordinator that has since lost the
// partition can be told from its successor's.
func (s *Service) complete(m *Markers) error {
	cm := recordbatch.ControlMarker{ProducerID: m.ProducerID, Epoch: m.Epoch, Commit: m.Commit,
		CoordinatorEpoch: s.shardFor(m.TxnID).part.LeaderEpoch(), Timestamp: s.cfg.Clock().UnixMilli()}
	// The partitions are independent: their markers are written at once,
	// so the fsyncs overlap (and share group commits with other writes).
	errs := make([]error, len(m.Partitions))
	var wg sync.WaitGroup
	for i, tp := range m.Partitions {
		wg.Go(func() { errs[i] = s.markers.WriteMarker(s.ctx, tp, cm) })
	}
	wg.Wait()
	for i, err := range errs {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			// The partition was deleted: it needs no marker.
			s.cfg.Logger.Info("txn: no marker for a deleted partition", "transactionalId", m.TxnID, "partition", m.Partitions[i].String())
			errs[i] = nil
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	o := s.run(m.TxnID, func(c *Coordinator, now int64) Outcome { return c.MarkersWritten(now, m.TxnID) })()
	if o.Err != nil && !errors.Is(o.Err, kerr.InvalidTxnState) {
		return o.Err
	}
	return nil
}

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// loop runs timeouts and expiry at the coordinator's deadlines.
func (s *Service) loop() {
	defer s.bg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		deadline := int64(-1)
		for _, sh := range s.shards {
			sh.mu.Lock()
			if d := sh.coord.NextDeadline(); d >= 0 && (deadline < 0 || d < deadline) {
				deadline = d
			}
			sh.mu.Unlock()
		}
		wait := time.Hour
		if deadline >= 0 {
			wait = max(time.Duration(deadline-s.cfg.Clock().UnixMilli())*time.Millisecond, 0)
		}
		timer.Reset(wait)
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
		case <-timer.C:
			s.tick()
		}
	}
}

// tick makes the coordinator's own transitions: timed-out transactions
// aborted (and their producers fenced), idle ids forgotten.
func (s *Service) tick() {
	var waits []func() Outcome
	for _, sh := range s.shards {
		sh.mu.Lock()
		waits = append(waits, s.tickLocked(sh)...)
		sh.mu.Unlock()
	}
	for _, w := range waits {
		w()
	}
}

// tickLocked makes one shard's own transitions. Requires sh.mu.
func (s *Service) tickLocked(sh *shard) []func() Outcome {
	var waits []func() Outcome
	for _, o := range sh.coord.Tick(s.cfg.Clock().UnixMilli()) {
		if o.Write == nil {
			continue
		}
		if o.Write.State == PrepareAbort {
			s.cfg.Observer.TimedOut()
			s.cfg.Logger.Info("txn: aborting a transaction past its timeout", "transactionalId", o.Write.ID,
				"producerId", o.Write.ProducerID, "timeoutMs", o.Write.TimeoutMs)
		}
		waits = append(waits, s.runLocked(sh, o.Write.ID, o))
	}
	return waits
}

// Changed returns a channel closed at the next transition applied to
// id's shard: a caller answered CONCURRENT_TRANSACTIONS can wait on it and
// try again.
func (s *Service) Changed(id string) <-chan struct{} {
	sh := s.shardFor(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.changed
}

// InitProducerID handles InitProducerId with a transactional id. The
// decision is taken now; the returned wait gives the reply once durable.
func (s *Service) InitProducerID(r InitRequest) func() Outcome {
	return s.run(r.TxnID, func(c *Coordinator, now int64) Outcome { return c.InitProducerID(now, r) })
}

// AddPartitions handles AddPartitionsToTxn, and AddOffsetsToTxn with the
// group's offsets partition.
func (s *Service) AddPartitions(id string, pid int64, epoch int16, tps []TopicPartition) func() Outcome {
	return s.run(id, func(c *Coordinator, now int64) Outcome { return c.AddPartitions(now, id, pid, epoch, tps) })
}

// AddStarted is an AddPartitions decided and appended to the transaction
// log but not yet durable: a transactional produce (acks=all) appends its
// data meanwhile and syncs both in one flush cycle, so the add costs the
// producer no fsync of its own in sequence. A crash can then leave data
// whose add was lost; Reconcile finds it at the next start.
type AddStarted struct {
	// Err is the decision's error; nothing was appended.
	Err *kerr.Error
	// Durable is the transaction-log position the add must be synced
	// to; nil when the partitions were already in the transaction.
	Durable *partition.Durable
	wait    func() Outcome
}

// Wait makes the add durable (at once if a flush cycle already synced
// Durable), applies it and returns its outcome's error. It must be
// called once the add was started, also when the request that started it
// is abandoned: until then the id's other requests wait.
func (a AddStarted) Wait() *kerr.Error {
	if a.Err != nil || a.wait == nil {
		return a.Err
	}
	return a.wait().Err
}

// StartAddPartitions decides an AddPartitions and appends its record,
// without waiting for it to be durable (see AddStarted).
func (s *Service) StartAddPartitions(id string, pid int64, epoch int16, tps []TopicPartition) AddStarted {
	sh := s.shardFor(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	o := sh.coord.AddPartitions(s.cfg.Clock().UnixMilli(), id, pid, epoch, tps)
	switch {
	case o.Err != nil:
		return AddStarted{Err: o.Err}
	case o.Write == nil:
		return AddStarted{}
	}
	next, wait := s.startLocked(sh, id, o)
	return AddStarted{Durable: &partition.Durable{P: sh.part, Next: next}, wait: wait}
}

// reconcile makes the coordinator hold a transaction a partition holds
// open, if a crash took its add and left its data: a transactional
// produce syncs both together (AddStarted), so the data may have reached
// the disk and the add not (Coordinator.Reconcile decides). A
// transaction nothing explains is left as it is, and named, for an
// operator to abort.
func (s *Service) reconcile(open OpenTxn) {
	for _, sh := range s.shards {
		sh.mu.Lock()
		id, o := sh.coord.Reconcile(s.cfg.Clock().UnixMilli(), open.TP, open.ProducerID, open.Epoch)
		if id == "" {
			sh.mu.Unlock()
			continue
		}
		wait := func() Outcome { return o }
		if o.Err == nil {
			wait = s.runLocked(sh, id, o)
		}
		sh.mu.Unlock()
		if o = wait(); o.Err != nil {
			s.hanging(open, id, o.Err)
		} else if o.Write != nil {
			s.cfg.Logger.Info("txn: added a partition whose transactional data outlived its add in a crash",
				"transactionalId", id, "partition", open.TP.String(), "producerId", open.ProducerID, "epoch", open.Epoch)
		}
		return
	}
	s.hanging(open, "", kerr.InvalidProducerIDMapping)
}

func (s *Service) hanging(open OpenTxn, id string, why *kerr.Error) {
	s.cfg.Logger.Warn("txn: a partition holds open a transaction the coordinator does not hold; it holds back read_committed readers until aborted (sluice txn abort)",
		"partition", open.TP.String(), "producerId", open.ProducerID, "epoch", open.Epoch, "firstOffset", open.FirstOffset,
		"transactionalId", id, "reason", why.Message)
}

// Verify checks that partitions are in the producer's ongoing transaction.
func (s *Service) Verify(id string, pid int64, epoch int16, tps []TopicPartition) *kerr.Error {
	sh := s.shardFor(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.coord.Verify(id, pid, epoch, tps)
}

// VerifyEach is Verify with one answer per partition.
func (s *Service) VerifyEach(id string, pid int64, epoch int16, tps []TopicPartition) []*kerr.Error {
	sh := s.shardFor(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.coord.VerifyEach(id, pid, epoch, tps)
}

// EndTxn handles EndTxn.
func (s *Service) EndTxn(r EndRequest) func() Outcome {
	return s.run(r.TxnID, func(c *Coordinator, now int64) Outcome { return c.EndTxn(now, r) })
}

// Describe returns the current state of ids (DescribeTransactions).
func (s *Service) Describe(id string) (Txn, bool) {
	sh := s.shardFor(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.coord.Get(id)
}

// All returns every id's state (ListTransactions), sorted by id.
func (s *Service) All() []Txn {
	var all []Txn
	for _, sh := range s.shards {
		sh.mu.Lock()
		all = append(all, sh.coord.All()...)
		sh.mu.Unlock()
	}
	slices.SortFunc(all, func(a, b Txn) int { return strings.Compare(a.ID, b.ID) })
	return all
}
