package fetchsession

import (
	"errors"
	"math"
	"sync"
	"time"
)

// ErrEpoch is a request whose session epoch is not the session's: a
// request lost or repeated, or one overtaken by a later request of the
// same session (INVALID_FETCH_SESSION_EPOCH).
var ErrEpoch = errors.New("fetchsession: invalid session epoch")

// Key names a partition in a session: by topic id in a session of topic
// ids (Fetch v13+, KIP-516), else by topic name; the other field is zero.
type Key struct {
	TopicID   [16]byte
	Topic     string
	Partition int32
}

// Params is what the client last asked for a partition.
type Params struct {
	FetchOffset        int64
	MaxBytes           int32
	CurrentLeaderEpoch int32
}

// Read is one read of a partition, as far as a session cares: an
// incremental response carries the partition only when it returned
// records, failed, or changed one of the three offsets since the client
// was last told.
type Read struct {
	HighWatermark    int64
	LastStableOffset int64
	LogStartOffset   int64
	Records          int  // bytes of records returned
	Failed           bool // the partition's error code is not 0
}

// told is what the client was last told about a partition.
type told struct {
	highWatermark, lastStableOffset, logStartOffset int64
}

// unknown is a partition the client has been told nothing about: every
// read differs from it.
var unknown = told{-1, -1, -1}

// toldOf is what a response carrying r tells the client. A failed read
// leaves the high watermark unknown, so that the partition is sent again
// once the error clears, even with nothing else new (Kafka does the same).
func toldOf(r Read) told {
	if r.Failed {
		return unknown
	}
	return told{r.HighWatermark, r.LastStableOffset, r.LogStartOffset}
}

// Partition is one partition of a session.
type Partition struct {
	Key
	Params
	told    told
	pending Read // the current fetch's latest read, applied by Finish
	read    bool // pending holds a read of the current fetch
	gone    bool // forgotten in the current update
}

// NewPartition is a partition for Cache.Create: asked for with p, and
// told r by the full fetch that creates the session.
func NewPartition(k Key, p Params, r Read) Partition {
	return Partition{Key: k, Params: p, told: toldOf(r)}
}

// Offer records r as the current fetch's read of the partition and
// reports whether an incremental response must carry it (KIP-227): it
// returned records, it failed, or its high watermark, last stable offset
// or log start offset differ from what the client was last told. Call it
// only from a Visit.
func (p *Partition) Offer(r Read) bool {
	p.pending, p.read = r, true
	return r.Records > 0 || r.Failed || toldOf(r) != p.told
}

// Session is one incremental fetch session. Its partitions and epoch are
// guarded by mu; the fields the cache evicts by (lastUsed, size) by the
// cache's lock. mu may be held while taking the cache's lock, never the
// reverse.
type Session struct {
	id         int32
	privileged bool // created by a follower's fetch
	topicIDs   bool // partitions are keyed by topic id
	created    time.Time

	lastUsed time.Time // guarded by Cache.mu
	size     int       // partitions at the last touch; guarded by Cache.mu

	mu    sync.Mutex
	epoch int32        // the epoch the next request must carry
	parts []*Partition // fetch order
	index map[Key]*Partition
	moved []*Partition // Finish's scratch space, kept to save allocations
}

func newSession(id int32, privileged, topicIDs bool, now time.Time, parts []Partition) *Session {
	s := &Session{id: id, privileged: privileged, topicIDs: topicIDs, created: now, lastUsed: now,
		epoch: NextEpoch(0), parts: make([]*Partition, 0, len(parts)), index: make(map[Key]*Partition, len(parts))}
	for i := range parts {
		p := &parts[i]
		if old := s.index[p.Key]; old != nil {
			*old = *p // a partition named twice: the later entry wins
			continue
		}
		s.index[p.Key] = p
		s.parts = append(s.parts, p)
	}
	s.size = len(s.parts)
	return s
}

// ID is the session's id, never 0.
func (s *Session) ID() int32 { return s.id }

// Set adds the partition k, asked for with p, at the end of the fetch
// order, or updates what is asked for it. Call it only from the update
// function of Cache.Incremental.
func (s *Session) Set(k Key, p Params) {
	if old := s.index[k]; old != nil {
		old.Params = p
		return
	}
	np := &Partition{Key: k, Params: p, told: unknown}
	s.index[k] = np
	s.parts = append(s.parts, np)
}

// Forget removes the partition k if the session has it. Call it only from
// the update function of Cache.Incremental.
func (s *Session) Forget(k Key) {
	if p := s.index[k]; p != nil {
		delete(s.index, k)
		p.gone = true
	}
}

// compact drops the partitions forgotten by an update, keeping the order
// of the others. Requires s.mu.
func (s *Session) compact() {
	if len(s.index) == len(s.parts) {
		return
	}
	kept := s.parts[:0]
	for _, p := range s.parts {
		if !p.gone {
			kept = append(kept, p)
		}
	}
	clear(s.parts[len(kept):])
	s.parts = kept
}

// Visit calls fn for every partition, in fetch order, for the fetch begun
// at epoch (the request's epoch). It returns ErrEpoch without calling fn
// when a later request has moved the session on.
func (s *Session) Visit(epoch int32, fn func(*Partition)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch != NextEpoch(epoch) {
		return ErrEpoch
	}
	for _, p := range s.parts {
		fn(p)
	}
	return nil
}

// Finish ends the fetch begun at epoch: each partition's last offered
// read becomes what the client was told, and the partitions that returned
// records move to the end of the fetch order, in their order, so that
// under a response size limit the others come first next time (KIP-227).
// It returns ErrEpoch, changing nothing, when a later request has moved
// the session on.
func (s *Session) Finish(epoch int32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch != NextEpoch(epoch) {
		return ErrEpoch
	}
	kept := s.parts[:0]
	for _, p := range s.parts {
		if p.read {
			p.told = toldOf(p.pending)
		}
		if p.read && p.pending.Records > 0 {
			s.moved = append(s.moved, p)
		} else {
			kept = append(kept, p)
		}
		p.read = false
	}
	s.parts = append(kept, s.moved...)
	clear(s.moved)
	s.moved = s.moved[:0]
	return nil
}

// NextEpoch is the epoch after e (KIP-227): it wraps from the largest
// int32 to 1, since 0 means "create a session", and -1 (a closing request)
// stays -1.
func NextEpoch(e int32) int32 {
	switch {
	case e < 0:
		return -1
	case e == math.MaxInt32:
		return 1
	default:
		return e + 1
	}
}
