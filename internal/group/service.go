package group

import (
	"bytes"
	"context"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"sluice/internal/partition"
	"sluice/internal/recordbatch"
)

// ServiceConfig configures the group service. Zero values take the
// documented defaults.
type ServiceConfig struct {
	Coordinator Config
	// OffsetsRetention is offsets.retention.minutes: how long the offsets of
	// an empty group are kept; 0 => 7 days.
	OffsetsRetention time.Duration
	// MaintenanceInterval is how often expiry and snapshots run; 0 => 1 minute.
	MaintenanceInterval time.Duration
	// SnapshotBytes: a partition of the offsets log whose size passes this
	// is rewritten as a snapshot of its live offsets; 0 => 64 MiB.
	SnapshotBytes int64
	// MaxMetadataBytes is offset.metadata.max.bytes; 0 => 4096.
	MaxMetadataBytes int
	Logger           *slog.Logger
	Clock            func() time.Time
}

func (c *ServiceConfig) setDefaults() {
	if c.OffsetsRetention <= 0 {
		c.OffsetsRetention = 7 * 24 * time.Hour
	}
	if c.MaintenanceInterval <= 0 {
		c.MaintenanceInterval = time.Minute
	}
	if c.SnapshotBytes <= 0 {
		c.SnapshotBytes = 64 << 20
	}
	if c.MaxMetadataBytes <= 0 {
		c.MaxMetadataBytes = 4096
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Service is the thin loop around the pure parts: it owns the lock, the
// clock, the timer and the offsets log (the partitions of the internal
// offsets topic). The membership state machine (Coordinator) and the
// offsets table (Offsets) are changed only under s.mu, by events with the
// current time.
//
// Commit ordering: a commit is validated and appended to its offsets
// partition under s.mu, queued with the offset its batch ends at, and
// answered once the partition's high watermark passes that offset (the
// batch is durable under the broker's fsync policy). Queued commits are
// applied to the table strictly in log order, so OffsetFetch only ever
// shows durable commits and a later commit is never overwritten by an
// earlier one.
type Service struct {
	cfg   ServiceConfig
	parts []*partition.Partition

	mu      sync.Mutex
	coord   *Coordinator
	offsets *Offsets
	waiting map[Token]chan Reply
	// joiners names the group of each waiting JoinGroup, and ceilings
	// the generation each group has reserved durably (generation.go).
	joiners  map[Token]string
	ceilings map[string]int32
	// states holds each group's last durable state record
	// (stored_group.go), for snapshots and the start.
	states   map[string]recordbatch.Record
	lastTok  Token
	applyQ   [][]pendingWrite // per offsets partition, in log order
	snapshot []int64          // per partition: log size after the last snapshot

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

// pendingWrite is an appended batch of offset records not yet durable.
type pendingWrite struct {
	next    int64
	records []offsetRecord
	txn     *txnTag // nil for a plain commit
}

// NewService replays the offsets log and starts the timer loop.
func NewService(cfg ServiceConfig, parts []*partition.Partition) (*Service, error) {
	cfg.setDefaults()
	if err := cfg.Coordinator.Validate(); err != nil {
		return nil, err
	}
	s := &Service{
		cfg: cfg, parts: parts,
		coord:    NewCoordinator(cfg.Coordinator, nil),
		offsets:  NewOffsets(),
		waiting:  map[Token]chan Reply{},
		joiners:  map[Token]string{},
		ceilings: map[string]int32{},
		states:   map[string]recordbatch.Record{},
		applyQ:   make([][]pendingWrite, len(parts)),
		snapshot: make([]int64, len(parts)),
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	start := cfg.Clock()
	for i, p := range parts {
		if err := s.replay(p); err != nil {
			return nil, err
		}
		s.snapshot[i] = p.Size()
	}
	restored := 0
	for g, st := range s.states {
		if r, ok := decodeGroupRecord(st.Key, st.Value); ok && len(r.value.Members) > 0 {
			s.coord.Restore(start, &r.value, g)
			restored++
		}
	}
	for _, g := range s.offsets.Groups() {
		s.coord.Touch(g)
	}
	for g, ceiling := range s.ceilings {
		s.coord.SetGenerationFloor(g, ceiling)
		if _, stored := s.states[g]; !stored && ceiling > 0 {
			s.coord.SetRecovering(g)
		}
	}
	cfg.Logger.Info("group: offsets loaded", "groups", len(s.offsets.Groups()), "offsets", s.offsets.Count(), "restoredGroups", restored, "took", cfg.Clock().Sub(start).String())
	go s.loop()
	return s, nil
}

// replay applies every record of one offsets partition, in order.
func (s *Service) replay(p *partition.Partition) error {
	off := p.StartOffset()
	for off < p.HighWatermark() {
		res, err := p.Read(off, 1<<20, nil)
		if err != nil {
			return err
		}
		if len(res.Records) == 0 {
			break
		}
		for buf := res.Records; len(buf) > 0; {
			b, err := recordbatch.Frame(buf)
			if err != nil {
				return err
			}
			if err := s.replayBatch(b); err != nil {
				return err
			}
			off = b.NextOffset()
			buf = buf[len(b):]
		}
	}
	return nil
}

// replayBatch applies one batch of the offsets log, as applyWrite does
// for a write of this run: a marker decides its producer's pending
// offsets, a transactional batch's offsets are pending, others apply.
// Records of other kinds are skipped.
func (s *Service) replayBatch(b recordbatch.Batch) error {
	if b.IsControl() {
		m, err := b.Marker()
		if err != nil {
			return err
		}
		s.offsets.EndTxn(m.ProducerID, m.Commit)
		return nil
	}
	return b.EachRecord(func(_ int64, k, v []byte) bool {
		if r, ok := decodeGroupRecord(k, v); ok {
			s.ceilings[r.group] = max(s.ceilings[r.group], r.value.Generation)
			if !r.reservation() {
				s.states[r.group] = recordbatch.Record{Key: bytes.Clone(k), Value: bytes.Clone(v)}
			}
			return true
		}
		r, err := decodeOffset(k, v)
		switch {
		case err != nil:
		case b.IsTransactional() && r.value != nil:
			s.offsets.ApplyTxn(b.ProducerID(), r.group, r.tp, *r.value)
		case !b.IsTransactional():
			s.offsets.Apply(r.group, r.tp, r.value)
		}
		return true
	})
}

// partitionFor maps a group to its offsets partition.
func (s *Service) partitionFor(group string) int {
	h := fnv.New32a()
	h.Write([]byte(group))
	return int(h.Sum32() % uint32(len(s.parts)))
}

// Close stops the timer loop. Waiting joins and syncs are answered with
// COORDINATOR_NOT_AVAILABLE so their clients look for the coordinator again.
func (s *Service) Close() {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, ch := range s.waiting {
		ch <- Reply{Token: tok, Join: &JoinResponse{ErrorCode: kerr.CoordinatorNotAvailable.Code}, Sync: &SyncResponse{ErrorCode: kerr.CoordinatorNotAvailable.Code}}
		delete(s.waiting, tok)
		delete(s.joiners, tok)
	}
}

// register makes a token and its reply channel. Requires s.mu.
func (s *Service) register() (Token, chan Reply) {
	s.lastTok++
	ch := make(chan Reply, 1)
	s.waiting[s.lastTok] = ch
	return s.lastTok, ch
}

// dispatch hands replies to their waiters. The states of groups the call
// changed are durable first (stored_group.go); a sync answer of a call
// whose state could not be stored becomes COORDINATOR_NOT_AVAILABLE, so
// its member finds the coordinator again and rejoins, and the group
// rebalances. A join answer that hands out a generation past its
// group's reserved ceiling waits until a new ceiling is durable
// (generation.go). Requires s.mu.
func (s *Service) dispatch(replies []Reply) {
	unstored := s.storeGroupsLocked()
	// As Kafka does: a group whose settled generation could not be stored
	// rebalances, so it does not stay Stable with an assignment a restart
	// would not find.
	for _, g := range unstored {
		replies = append(replies, s.coord.storeFailed(s.cfg.Clock(), g)...)
	}
	for _, r := range replies {
		ch, ok := s.waiting[r.Token]
		if !ok {
			continue
		}
		delete(s.waiting, r.Token)
		group, joined := s.joiners[r.Token]
		delete(s.joiners, r.Token)
		if joined && r.Join != nil && r.Join.ErrorCode == 0 && r.Join.Generation > s.ceilings[group] {
			if err := s.reserveGenerationsLocked(group, r.Join.Generation); err != nil {
				s.cfg.Logger.Error("group: could not reserve generations; the member must join again", "group", group, "generation", r.Join.Generation, "err", err)
				r.Join = &JoinResponse{ErrorCode: kerr.CoordinatorNotAvailable.Code, MemberID: r.Join.MemberID}
			}
		}
		if len(unstored) > 0 && r.Sync != nil && r.Sync.ErrorCode == 0 {
			r.Sync = &SyncResponse{ErrorCode: kerr.CoordinatorNotAvailable.Code}
		}
		ch <- r
	}
}

// storeGroupsLocked writes the state records of the groups the last
// coordinator call changed and waits until they are durable; it returns
// the groups whose state could not be. Like reserveGenerationsLocked it
// holds s.mu across the fsync: it happens once per settled rebalance, and
// no answer of that rebalance may go out before a restart would see it.
// Requires s.mu.
func (s *Service) storeGroupsLocked() (unstored []string) {
	for _, st := range s.coord.drainStored(s.cfg.Clock()) {
		if err := s.writeDurableLocked(st.group, st.record); err != nil {
			s.cfg.Logger.Error("group: could not store the group's state; it rebalances", "group", st.group, "err", err)
			unstored = append(unstored, st.group)
			continue
		}
		s.states[st.group] = st.record
	}
	return unstored
}

// writeDurableLocked appends one record to group's offsets partition and
// waits until it is durable. Requires s.mu.
func (s *Service) writeDurableLocked(group string, rec recordbatch.Record) error {
	i := s.partitionFor(group)
	raw := recordbatch.Build(nil, []recordbatch.Record{rec}, s.cfg.Clock().UnixMilli(), 0)
	res, err := s.parts[i].AppendAwaited(raw)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), reserveTimeout)
	defer cancel()
	return s.parts[i].WaitDurable(ctx, res.NextOffset)
}

// reserveGenerationsLocked writes, and waits until durable, a ceiling
// past gen for group. It holds s.mu across the fsync: rare (a group's
// first rebalance, then one in generationReserve), and no join of any
// group may be answered before its generation is safe. Requires s.mu.
func (s *Service) reserveGenerationsLocked(group string, gen int32) error {
	ceiling := nextCeiling(gen)
	if err := s.writeDurableLocked(group, encodeGeneration(group, ceiling)); err != nil {
		return err
	}
	s.ceilings[group] = ceiling
	return nil
}

// reserveTimeout bounds the wait for a generation reservation or a
// group's state to be durable.
const reserveTimeout = 10 * time.Second

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Join registers a JoinGroup; the reply arrives on the channel when the
// rebalance completes (or at once).
func (s *Service) Join(req JoinRequest) <-chan Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ch := s.register()
	s.joiners[tok] = req.Group
	s.dispatch(s.coord.Join(s.cfg.Clock(), tok, req))
	s.wake()
	return ch
}

// Sync registers a SyncGroup; the reply arrives when the leader's
// assignment does (or at once).
func (s *Service) Sync(req SyncRequest) <-chan Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ch := s.register()
	s.dispatch(s.coord.Sync(s.cfg.Clock(), tok, req))
	s.wake()
	return ch
}

// Heartbeat answers a heartbeat.
func (s *Service) Heartbeat(group, memberID string, instanceID *string, generation int32) int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := s.coord.Heartbeat(s.cfg.Clock(), group, memberID, instanceID, generation)
	s.wake()
	return code
}

// Leave removes members.
func (s *Service) Leave(group string, members []LeaveMember) (int16, []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	top, per, replies := s.coord.Leave(s.cfg.Clock(), group, members)
	s.dispatch(replies)
	s.wake()
	return top, per
}

// Describe returns a group's state and members.
func (s *Service) Describe(group string) (Description, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.coord.Describe(group)
}

// List lists groups, filtered by state when states is not empty.
func (s *Service) List(states []string) []Listing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.coord.List(states)
}

// loop runs the coordinator's deadlines and the periodic maintenance.
func (s *Service) loop() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	maint := time.NewTicker(s.cfg.MaintenanceInterval)
	defer maint.Stop()
	for {
		s.mu.Lock()
		deadline, ok := s.coord.NextDeadline()
		s.mu.Unlock()
		wait := time.Hour
		if ok {
			wait = max(deadline.Sub(s.cfg.Clock()), 0)
		}
		timer.Reset(wait)
		select {
		case <-s.stop:
			return
		case <-s.kick:
		case <-timer.C:
			s.mu.Lock()
			s.dispatch(s.coord.Tick(s.cfg.Clock()))
			s.mu.Unlock()
		case <-maint.C:
			s.maintain()
		}
	}
}

// durableWait waits until partition i's high watermark passes next, then
// applies the queued writes that became durable.
func (s *Service) durableWait(ctx context.Context, i int, next int64) error {
	if err := s.parts[i].WaitDurable(ctx, next); err != nil {
		return err
	}
	s.mu.Lock()
	s.applyDurableLocked(i)
	s.mu.Unlock()
	return nil
}

// applyDurableLocked applies, in log order, every queued write of
// partition i that is now below its high watermark. Requires s.mu.
func (s *Service) applyDurableLocked(i int) {
	hw := s.parts[i].HighWatermark()
	q := s.applyQ[i]
	for len(q) > 0 && q[0].next <= hw {
		s.applyWrite(q[0])
		q = q[1:]
	}
	s.applyQ[i] = q
}

// applyWrite applies one durable write to the table. Requires s.mu.
func (s *Service) applyWrite(w pendingWrite) {
	switch {
	case w.txn == nil:
		for _, r := range w.records {
			s.offsets.Apply(r.group, r.tp, r.value)
		}
	case w.txn.end:
		s.offsets.EndTxn(w.txn.pid, w.txn.commit)
	default:
		for _, r := range w.records {
			if r.value != nil {
				s.offsets.ApplyTxn(w.txn.pid, r.group, r.tp, *r.value)
			}
		}
	}
}

// appendLocked writes records to partition i and queues them for applying.
// Requires s.mu.
func (s *Service) appendLocked(i int, records []offsetRecord) (int64, error) {
	raw := recordbatch.Build(nil, encodeOffsets(records), s.cfg.Clock().UnixMilli(), 0)
	res, err := s.parts[i].Append(raw)
	if err != nil {
		return 0, err
	}
	s.applyQ[i] = append(s.applyQ[i], pendingWrite{next: res.NextOffset, records: records})
	return res.NextOffset, nil
}
