package fetchsession

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

var (
	// ErrNotFound is a request naming a session the cache does not hold:
	// never created, closed, evicted, or lost in a restart
	// (FETCH_SESSION_ID_NOT_FOUND).
	ErrNotFound = errors.New("fetchsession: session id not found")
	// ErrTopicIDs is a request that names topics by id in a session keyed
	// by name, or the reverse (FETCH_SESSION_TOPIC_ID_ERROR).
	ErrTopicIDs = errors.New("fetchsession: topic ids used inconsistently in the session")
)

// Config is the cache's settings; zero values take the defaults.
type Config struct {
	// Slots bounds the number of sessions
	// (max.incremental.fetch.session.cache.slots). 0 means 1000; negative
	// means no sessions at all: every fetch stays sessionless.
	Slots int
	// EvictAfter is min.incremental.fetch.session.eviction.ms: a session
	// unused for longer may be evicted by any new one, and only a session
	// older than this may be evicted for being smaller (evict.go). 0 means
	// 2 minutes.
	EvictAfter time.Duration
	// Seed seeds the random session ids; 0 means a random seed.
	Seed uint64
}

const (
	defaultSlots      = 1000
	defaultEvictAfter = 2 * time.Minute
)

func (c Config) withDefaults() Config {
	if c.Slots == 0 {
		c.Slots = defaultSlots
	}
	if c.EvictAfter <= 0 {
		c.EvictAfter = defaultEvictAfter
	}
	if c.Seed == 0 {
		c.Seed = rand.Uint64()
	}
	return c
}

// Cache holds the broker's fetch sessions. It is safe for concurrent use.
type Cache struct {
	cfg      Config
	mu       sync.Mutex
	sessions map[int32]*Session
	rng      *rand.Rand // session ids; guarded by mu
}

// New returns an empty cache.
func New(cfg Config) *Cache {
	cfg = cfg.withDefaults()
	return &Cache{cfg: cfg, sessions: map[int32]*Session{}, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed>>1|1))}
}

// Len is the number of sessions held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sessions)
}

// Create makes a session of parts (in fetch order; the cache owns the
// slice from now on) for the full fetch that read them, evicting another
// session if the cache is full and the rules allow. It returns the new
// session's id, or 0 (no session) when there is no room. privileged is a
// follower's fetch; topicIDs is a fetch that names topics by id.
func (c *Cache) Create(now time.Time, privileged, topicIDs bool, parts []Partition) int32 {
	if c.cfg.Slots < 0 {
		return 0
	}
	s := newSession(0, privileged, topicIDs, now, parts)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sessions) >= c.cfg.Slots && !c.evictLocked(now, privileged, s.size) {
		return 0
	}
	s.id = c.newIDLocked()
	c.sessions[s.id] = s
	return s.id
}

// newIDLocked picks a random positive id not in use: random rather than
// counted so that a client still holding an id from before a restart is
// told its session is gone instead of landing in someone else's. Requires
// c.mu.
func (c *Cache) newIDLocked() int32 {
	for {
		id := c.rng.Int32N(math.MaxInt32-1) + 1
		if c.sessions[id] == nil {
			return id
		}
	}
}

// Incremental begins an incremental fetch on session id at epoch: it
// checks the epoch and the use of topic ids, lets update add, change
// (Session.Set) and forget (Session.Forget) partitions, and moves the
// epoch on. It returns the session to read, or nil and no error when the
// update left the session empty: the session is then closed and the fetch
// is sessionless, as in Kafka.
func (c *Cache) Incremental(now time.Time, id, epoch int32, topicIDs bool, update func(*Session)) (*Session, error) {
	c.mu.Lock()
	s := c.sessions[id]
	c.mu.Unlock()
	if s == nil {
		return nil, ErrNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch != epoch {
		return nil, ErrEpoch
	}
	if s.topicIDs != topicIDs {
		return nil, ErrTopicIDs
	}
	update(s)
	s.compact()
	if len(s.parts) == 0 {
		c.mu.Lock()
		c.removeLocked(s)
		c.mu.Unlock()
		return nil, nil
	}
	c.touch(s, now)
	s.epoch = NextEpoch(s.epoch)
	return s, nil
}

// touch records a use of s, which may have changed size. Requires s.mu.
func (c *Cache) touch(s *Session, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.lastUsed, s.size = now, len(s.parts)
}

// Remove closes session id if the cache holds it.
func (c *Cache) Remove(id int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.sessions, id)
}

// removeLocked removes s itself: its id may meanwhile have been evicted
// and given to a new session. Requires c.mu.
func (c *Cache) removeLocked(s *Session) {
	if c.sessions[s.id] == s {
		delete(c.sessions, s.id)
	}
}
