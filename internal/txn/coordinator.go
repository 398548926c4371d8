package txn

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Config holds the coordinator's limits. Zero values take the defaults.
type Config struct {
	// MaxTimeoutMs is transaction.max.timeout.ms: the largest
	// transaction.timeout.ms a producer may ask for. 0 => 15 minutes.
	MaxTimeoutMs int32
	// IDExpirationMs is transactional.id.expiration.ms: an id idle this
	// long outside a transaction is forgotten. 0 => 7 days.
	IDExpirationMs int64
}

func (c *Config) setDefaults() {
	if c.MaxTimeoutMs <= 0 {
		c.MaxTimeoutMs = 900_000
	}
	if c.IDExpirationMs <= 0 {
		c.IDExpirationMs = 7 * 24 * 3600 * 1000
	}
}

// IDSource hands out new producer ids (durably, so none is reused).
type IDSource interface {
	NextProducerID() (int64, error)
}

// Coordinator holds every transactional id's state.
type Coordinator struct {
	cfg  Config
	ids  IDSource
	txns map[string]*entry
}

type entry struct {
	cur     Txn
	loaded  bool // cur was applied (false while the id's first record is written)
	pending *Txn // a transition being made durable
}

// New returns an empty coordinator.
func New(cfg Config, ids IDSource) *Coordinator {
	cfg.setDefaults()
	return &Coordinator{cfg: cfg, ids: ids, txns: map[string]*entry{}}
}

// Outcome is the coordinator's decision on one event.
type Outcome struct {
	// Err is the reply's error (nil: success). The handler maps it to the
	// code the request version knows.
	Err *kerr.Error
	// ProducerID and Epoch are the reply's, for InitProducerId and
	// EndTxn v5+.
	ProducerID int64
	Epoch      int16
	// Write, when set, must be made durable and then passed to Applied
	// before the reply is sent.
	Write *Txn
	// Markers, when set, are to be written once Write is durable; then
	// MarkersWritten completes the transaction.
	Markers *Markers
}

// Markers is a transaction's decision to be written to its partitions.
type Markers struct {
	TxnID      string
	ProducerID int64
	Epoch      int16 // the epoch the markers carry
	Commit     bool
	Partitions []TopicPartition
}

func fail(err *kerr.Error) Outcome { return Outcome{Err: err} }

// InitRequest is an InitProducerId with a transactional id.
type InitRequest struct {
	TxnID     string
	TimeoutMs int32
	// ProducerID and Epoch are the producer's current ones for a KIP-360
	// recovery, -1 for a fresh start.
	ProducerID int64
	Epoch      int16
}

// InitProducerID gives the id a producer id and a new epoch, fencing
// every older producer of the id. An ongoing transaction is aborted first
// (with a bumped epoch, so the old producer is fenced at once) and the
// caller told CONCURRENT_TRANSACTIONS until that is done.
func (c *Coordinator) InitProducerID(now int64, r InitRequest) Outcome {
	if r.TimeoutMs <= 0 || r.TimeoutMs > c.cfg.MaxTimeoutMs {
		return fail(kerr.InvalidTransactionTimeout)
	}
	e := c.txns[r.TxnID]
	if e == nil {
		return c.initNew(now, r)
	}
	if e.pending != nil || !e.loaded {
		return fail(kerr.ConcurrentTransactions)
	}
	t := e.cur
	if r.ProducerID >= 0 && !t.recognises(r.ProducerID, r.Epoch) {
		return fail(kerr.ProducerFenced)
	}
	switch t.State {
	case PrepareCommit, PrepareAbort:
		return fail(kerr.ConcurrentTransactions)
	case Ongoing:
		o := c.abort(now, e)
		o.Err, o.ProducerID, o.Epoch = kerr.ConcurrentTransactions, -1, -1
		return o
	}
	return c.bumpForInit(now, e, r)
}

func (c *Coordinator) initNew(now int64, r InitRequest) Outcome {
	pid, err := c.ids.NextProducerID()
	if err != nil {
		return fail(kerr.KafkaStorageError)
	}
	t := Txn{ID: r.TxnID, ProducerID: pid, Epoch: 0, TimeoutMs: r.TimeoutMs, State: Empty,
		StartMs: -1, UpdateMs: now, PrevProducerID: -1, NextProducerID: -1, lastEpoch: -1}
	c.txns[r.TxnID] = &entry{pending: &t}
	return Outcome{ProducerID: t.ProducerID, Epoch: t.Epoch, Write: &t}
}

// recognises reports whether a producer's (pid, epoch) is the id's
// current one, or the one before the last InitProducerId bumped it (a
// retry whose answer was lost).
func (t Txn) recognises(pid int64, epoch int16) bool {
	if pid != t.ProducerID {
		return false
	}
	return epoch == t.Epoch || (t.lastEpoch >= 0 && epoch == t.lastEpoch)
}

// bumpForInit bumps the epoch of an id at rest (Empty or Complete*),
// moving to a new producer id when the epochs are used up.
func (c *Coordinator) bumpForInit(now int64, e *entry, r InitRequest) Outcome {
	t := e.cur
	next := t
	next.State, next.TimeoutMs, next.UpdateMs = Empty, r.TimeoutMs, now
	next.Partitions, next.StartMs, next.NextProducerID = nil, -1, -1
	switch {
	case r.ProducerID >= 0 && r.Epoch != t.Epoch:
		// A retry of the InitProducerId that made the current epoch.
		return Outcome{ProducerID: t.ProducerID, Epoch: t.Epoch}
	case t.exhausted():
		pid, err := c.ids.NextProducerID()
		if err != nil {
			return fail(kerr.KafkaStorageError)
		}
		next.PrevProducerID, next.ProducerID, next.Epoch, next.lastEpoch = t.ProducerID, pid, 0, -1
	default:
		next.Epoch, next.lastEpoch = t.Epoch+1, -1
		if r.ProducerID >= 0 {
			next.lastEpoch = t.Epoch
		}
	}
	w, err := e.propose(next)
	if err != nil {
		return fail(err)
	}
	return Outcome{ProducerID: next.ProducerID, Epoch: next.Epoch, Write: w}
}

func (t Txn) atRest() bool {
	return t.State == Empty || t.State == CompleteCommit || t.State == CompleteAbort
}

// propose makes next the id's pending transition. An illegal transition
// is a bug in the coordinator; it is refused rather than written.
func (e *entry) propose(next Txn) (*Txn, *kerr.Error) {
	if e.loaded && !canTransition(e.cur.State, next.State) {
		return nil, kerr.InvalidTxnState
	}
	e.pending = &next
	return &next, nil
}

// check finds the id and checks the producer's id and epoch for a request
// inside a transaction.
func (c *Coordinator) check(id string, pid int64, epoch int16) (*entry, *kerr.Error) {
	e := c.txns[id]
	switch {
	case e == nil || !e.loaded:
		return nil, kerr.InvalidProducerIDMapping
	case e.cur.NextProducerID == pid && pid >= 0 && epoch == 0:
		// The producer id this one rotates to, used before the
		// markers of the transaction that rotated it are written.
		return nil, kerr.ConcurrentTransactions
	case e.cur.ProducerID != pid:
		return nil, kerr.InvalidProducerIDMapping
	case e.cur.Epoch != epoch:
		return nil, kerr.ProducerFenced
	case e.pending != nil:
		return nil, kerr.ConcurrentTransactions
	}
	return e, nil
}

// AddPartitions adds partitions (a group's offsets partition too, for
// AddOffsetsToTxn) to the producer's transaction, starting it if none is
// ongoing.
func (c *Coordinator) AddPartitions(now int64, id string, pid int64, epoch int16, tps []TopicPartition) Outcome {
	e, err := c.check(id, pid, epoch)
	if err != nil {
		return fail(err)
	}
	t := e.cur
	switch t.State {
	case PrepareCommit, PrepareAbort:
		return fail(kerr.ConcurrentTransactions)
	case Ongoing:
		if !slices.ContainsFunc(tps, func(tp TopicPartition) bool { return !t.has(tp) }) {
			return Outcome{ProducerID: t.ProducerID, Epoch: t.Epoch} // nothing new: nothing to write
		}
	}
	next := t
	if t.State != Ongoing {
		next.StartMs, next.Partitions = now, nil
	}
	next.State, next.UpdateMs = Ongoing, now
	next.Partitions = next.withPartitions(tps)
	w, err := e.propose(next)
	if err != nil {
		return fail(err)
	}
	return Outcome{ProducerID: t.ProducerID, Epoch: t.Epoch, Write: w}
}

// Verify reports whether every partition is in the producer's ongoing
// transaction: the check a transactional produce needs (KIP-890 part 1),
// without changing anything. The errors are those Kafka's coordinator
// gives a verification: INVALID_PRODUCER_ID_MAPPING for an unknown id or
// another producer id, PRODUCER_FENCED for another epoch,
// CONCURRENT_TRANSACTIONS while the transaction is being decided, and
// TRANSACTION_ABORTABLE for a partition not in an ongoing transaction: the
// producer's transaction cannot take that write, but the producer is not
// fenced; it aborts and goes on. The caller maps the last to what older
// request versions know.
func (c *Coordinator) Verify(id string, pid int64, epoch int16, tps []TopicPartition) *kerr.Error {
	t, err := c.verifiable(id, pid, epoch)
	if err != nil {
		return err
	}
	for _, tp := range tps {
		if !t.has(tp) {
			return kerr.TransactionAbortable
		}
	}
	return nil
}

// VerifyEach is Verify with one answer per partition, in order, for the
// broker-to-broker form of AddPartitionsToTxn (v4+ with VerifyOnly).
func (c *Coordinator) VerifyEach(id string, pid int64, epoch int16, tps []TopicPartition) []*kerr.Error {
	out := make([]*kerr.Error, len(tps))
	t, err := c.verifiable(id, pid, epoch)
	for i, tp := range tps {
		switch {
		case err != nil:
			out[i] = err
		case !t.has(tp):
			out[i] = kerr.TransactionAbortable
		}
	}
	return out
}

// verifiable checks the producer of a verification and returns the id's
// state. A transaction that is not ongoing has no partitions, so every
// partition is then outside it.
func (c *Coordinator) verifiable(id string, pid int64, epoch int16) (Txn, *kerr.Error) {
	e := c.txns[id]
	switch {
	case e == nil || !e.loaded || e.cur.ProducerID != pid:
		return Txn{}, kerr.InvalidProducerIDMapping
	case e.cur.Epoch != epoch:
		return Txn{}, kerr.ProducerFenced
	case e.cur.State == PrepareCommit || e.cur.State == PrepareAbort:
		return Txn{}, kerr.ConcurrentTransactions
	case e.cur.State != Ongoing:
		return Txn{}, nil
	}
	return e.cur, nil
}

// EndRequest is an EndTxn.
type EndRequest struct {
	TxnID      string
	ProducerID int64
	Epoch      int16
	Commit     bool
	// V2 is set for EndTxn v5+ (transactions v2, KIP-890 part 2): the
	// epoch is bumped with every commit or abort and returned, and a
	// retry is recognised by the epoch before that bump.
	V2 bool
}

// EndTxn decides the producer's transaction. The decision is durable
// before the reply (Write); the markers follow.
func (c *Coordinator) EndTxn(now int64, r EndRequest) Outcome {
	if o, ok := c.retriedEnd(r); ok {
		return o
	}
	e, err := c.check(r.TxnID, r.ProducerID, r.Epoch)
	if err != nil {
		return fail(err)
	}
	t := e.cur
	switch {
	case t.State == Ongoing || (r.V2 && !r.Commit && t.atRest()):
		to := PrepareAbort
		if r.Commit {
			to = PrepareCommit
		}
		// The request's version decides, not the id's last client: an
		// EndTxn v4 answer carries no epoch, so a bump the client
		// cannot see would fence it at its next InitProducerId.
		return c.prepare(now, e, to, r.V2, false)
	case t.State == CompleteCommit && r.Commit, t.State == CompleteAbort && !r.Commit:
		return Outcome{ProducerID: t.ProducerID, Epoch: t.Epoch} // a retry: already done
	case t.State == PrepareCommit && r.Commit, t.State == PrepareAbort && !r.Commit:
		return fail(kerr.ConcurrentTransactions)
	}
	return fail(kerr.InvalidTxnState)
}

// retriedEnd recognises a transactions-v2 EndTxn retried after it was
// applied: its epoch is the one before the bump the first attempt made.
// Without this rule, or with v1 semantics where the epoch stays, a late
// retry could decide the next transaction (KAFKA-17754).
func (c *Coordinator) retriedEnd(r EndRequest) (Outcome, bool) {
	e := c.txns[r.TxnID]
	if !r.V2 || e == nil || !e.loaded || e.pending != nil {
		return Outcome{}, false
	}
	t := e.cur
	samePID := t.ProducerID == r.ProducerID && t.Epoch == r.Epoch+1
	rotated := t.PrevProducerID == r.ProducerID && t.Epoch == 0
	// Only a bump a v2 EndTxn made can be retried: not one an older
	// client's EndTxn left unbumped, nor a fence (a new producer's
	// InitProducerId or a timeout), whose old epoch is the one fenced.
	byEnd := t.ClientVersion == 2 && (t.lastEpoch < 0 || r.Epoch != t.lastEpoch)
	if (!samePID && !rotated) || !byEnd {
		return Outcome{}, false
	}
	switch {
	case t.State == CompleteCommit && r.Commit, t.State == CompleteAbort && !r.Commit,
		t.State == PrepareCommit && r.Commit, t.State == PrepareAbort && !r.Commit:
		return reply(t), true
	case t.State == Empty || t.State == Ongoing:
		return fail(kerr.ProducerFenced), true
	}
	return fail(kerr.InvalidTxnState), true
}

// abort prepares the coordinator's own abort (a timeout, or the
// InitProducerId of a new producer): it fences, bumping the epoch for any
// client, so the producer that left the transaction open learns it at its
// next request.
func (c *Coordinator) abort(now int64, e *entry) Outcome {
	return c.prepare(now, e, PrepareAbort, true, true)
}

// prepare moves a transaction to PrepareCommit or PrepareAbort. With
// bump, the markers and everything after carry epoch+1, so nothing the
// producer sends with the old epoch can join the decided transaction;
// under transactions v2, when the epochs run out, the next producer id is
// chosen now and taken at completion. fence remembers the old epoch, so
// the fenced producer may still re-initialise with it (KIP-588).
func (c *Coordinator) prepare(now int64, e *entry, to State, bump, fence bool) Outcome {
	t := e.cur
	next := t
	next.State, next.UpdateMs = to, now
	if !fence {
		next.ClientVersion = 0
		if bump {
			next.ClientVersion = 2
		}
	}
	if bump && !t.exhausted() {
		next.Epoch = t.Epoch + 1
	}
	if fence {
		next.lastEpoch = t.Epoch
	}
	if bump && next.exhausted() && next.ClientVersion == 2 {
		pid, err := c.ids.NextProducerID()
		if err != nil {
			return fail(kerr.KafkaStorageError)
		}
		next.NextProducerID = pid
	}
	w, err := e.propose(next)
	if err != nil {
		return fail(err)
	}
	o := reply(next)
	o.Write, o.Markers = w, markersOf(next)
	return o
}

// reply is the producer id and epoch a client is to use after t: the next
// producer id's first epoch when t rotates to it.
func reply(t Txn) Outcome {
	if t.NextProducerID >= 0 {
		return Outcome{ProducerID: t.NextProducerID, Epoch: 0}
	}
	return Outcome{ProducerID: t.ProducerID, Epoch: t.Epoch}
}

func markersOf(t Txn) *Markers {
	return &Markers{TxnID: t.ID, ProducerID: t.ProducerID, Epoch: t.Epoch, Commit: t.State == PrepareCommit,
		Partitions: slices.Clone(t.Partitions)}
}

// MarkersWritten completes a prepared transaction once its markers are
// durable in every partition.
func (c *Coordinator) MarkersWritten(now int64, id string) Outcome {
	e := c.txns[id]
	if e == nil || !e.loaded || e.pending != nil {
		return fail(kerr.ConcurrentTransactions)
	}
	t := e.cur
	next := t
	switch t.State {
	case PrepareCommit:
		next.State = CompleteCommit
	case PrepareAbort:
		next.State = CompleteAbort
	default:
		return fail(kerr.InvalidTxnState)
	}
	next.Partitions, next.StartMs, next.UpdateMs = nil, -1, now
	if t.NextProducerID >= 0 {
		next.PrevProducerID, next.ProducerID, next.Epoch, next.NextProducerID = t.ProducerID, t.NextProducerID, 0, -1
	}
	w, err := e.propose(next)
	if err != nil {
		return fail(err)
	}
	return Outcome{ProducerID: next.ProducerID, Epoch: next.Epoch, Write: w}
}

// Applied installs a transition once it is durable. A Dead id is
// forgotten.
func (c *Coordinator) Applied(t Txn) {
	e := c.txns[t.ID]
	if e == nil {
		e = &entry{}
		c.txns[t.ID] = e
	}
	if t.State == Dead {
		delete(c.txns, t.ID)
		return
	}
	last := e.cur.lastEpoch
	if e.pending != nil {
		last = e.pending.lastEpoch
	}
	e.cur, e.loaded, e.pending = t, true, nil
	e.cur.lastEpoch = last
}

// Failed drops a transition whose write failed; the id stays as it was.
func (c *Coordinator) Failed(id string) {
	e := c.txns[id]
	if e == nil {
		return
	}
	e.pending = nil
	if !e.loaded {
		delete(c.txns, id)
	}
}

// Load installs a state read from the transaction log at start.
func (c *Coordinator) Load(t Txn) {
	t.lastEpoch = -1
	c.Applied(t)
}

// Recover returns the markers of every transaction found prepared: each
// must be written and completed before anything else is decided for it.
func (c *Coordinator) Recover() []*Markers {
	var out []*Markers
	for _, id := range c.sortedIDs() {
		if t := c.txns[id].cur; t.State == PrepareCommit || t.State == PrepareAbort {
			out = append(out, markersOf(t))
		}
	}
	return out
}

// Reconcile decides what to do with a transaction a partition holds open
// for producer pid at epoch when the coordinator may not know of it: a
// transactional produce's data and its add are synced together, so after
// a crash the data may be on disk and the add not. If the producer's
// current transaction, at that epoch, already has the partition, nothing
// changes. If it is ongoing without it, or at rest, the partition is
// added (starting the transaction), so that the producer's commit or
// abort, or its timeout, writes the partition's marker; the producer,
// never told its write succeeded, may go on or give up. Any other case
// (no id holds the producer, another epoch, a transaction being decided
// without the partition) is no lost add, and is refused with the error
// that says why: the transaction hangs until an operator aborts it, as
// Sluice never decides a transaction on a guess.
func (c *Coordinator) Reconcile(now int64, tp TopicPartition, pid int64, epoch int16) (id string, o Outcome) {
	for candidate, e := range c.txns { // a producer id belongs to one id: no order needed
		if e.loaded && e.cur.ProducerID == pid {
			id = candidate
			break
		}
	}
	if id == "" {
		return "", fail(kerr.InvalidProducerIDMapping)
	}
	t := c.txns[id].cur
	switch {
	case t.has(tp):
		return id, Outcome{ProducerID: t.ProducerID, Epoch: t.Epoch}
	case t.Epoch != epoch:
		return id, fail(kerr.ProducerFenced)
	case t.State == PrepareCommit || t.State == PrepareAbort:
		return id, fail(kerr.InvalidTxnState)
	}
	return id, c.AddPartitions(now, id, pid, epoch, []TopicPartition{tp})
}

// Tick aborts every transaction open longer than its timeout (fencing its
// producer, which learns it at its next request) and forgets ids idle
// longer than the expiration. It returns one outcome per transition.
func (c *Coordinator) Tick(now int64) []Outcome {
	var out []Outcome
	for _, id := range c.sortedIDs() {
		e := c.txns[id]
		if e.pending != nil || !e.loaded {
			continue
		}
		t := e.cur
		switch {
		case t.State == Ongoing && now-t.StartMs > int64(t.TimeoutMs):
			out = append(out, c.abort(now, e))
		case (t.State == Empty || t.State == CompleteCommit || t.State == CompleteAbort) && now-t.UpdateMs > c.cfg.IDExpirationMs:
			next := t
			next.State, next.UpdateMs = Dead, now
			w, err := e.propose(next)
			out = append(out, Outcome{Err: err, Write: w})
		}
	}
	return out
}

// NextDeadline returns when Tick next has work, or -1.
func (c *Coordinator) NextDeadline() int64 {
	next := int64(-1)
	for _, e := range c.txns {
		if e.pending != nil || !e.loaded {
			continue
		}
		var at int64
		switch t := e.cur; t.State {
		case Ongoing:
			at = t.StartMs + int64(t.TimeoutMs) + 1
		case Empty, CompleteCommit, CompleteAbort:
			at = t.UpdateMs + c.cfg.IDExpirationMs + 1
		default:
			continue
		}
		if next < 0 || at < next {
			next = at
		}
	}
	return next
}

// Get returns an id's current (durable) state.
func (c *Coordinator) Get(id string) (Txn, bool) {
	e := c.txns[id]
	if e == nil || !e.loaded {
		return Txn{}, false
	}
	return e.cur, true
}

// All returns every id's current state, sorted by id.
func (c *Coordinator) All() []Txn {
	var out []Txn
	for _, id := range c.sortedIDs() {
		if e := c.txns[id]; e.loaded {
			out = append(out, e.cur)
		}
	}
	return out
}

func (c *Coordinator) sortedIDs() []string {
	ids := make([]string, 0, len(c.txns))
	for id := range c.txns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
