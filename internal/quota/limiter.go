package quota

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Config is how usage is measured: Kafka's quota.window.num and
// quota.window.size.seconds. A client may use its quota's worth of
// Windows × WindowSize at once (the burst) before it is throttled.
type Config struct {
	Windows    int           // 0: 11
	WindowSize time.Duration // 0: one second
}

func (c Config) withDefaults() Config {
	if c.Windows <= 0 {
		c.Windows = 11
	}
	if c.WindowSize <= 0 {
		c.WindowSize = time.Second
	}
	return c
}

// Kind is a quota the limiter enforces.
type Kind int

const (
	Produce Kind = iota // producer_byte_rate: bytes of produce requests
	Fetch               // consumer_byte_rate: bytes of fetch responses
	Request             // request_percentage: handler time, in percent-seconds (RequestTime)
	numKinds
)

var kindKeys = [numKinds]string{ProducerByteRate, ConsumerByteRate, RequestPercentage}

// RequestTime is what a request that kept a thread busy for d counts
// against request_percentage: 100 per second, so that a rate of 100 is
// one thread's whole time (KIP-124).
func RequestTime(d time.Duration) float64 { return d.Seconds() * 100 }

// Limiter measures each client's usage against its quotas and says how
// long to throttle it. Usage is kept per quota entity as Kafka keys its
// sensors: a quota set for a user alone is shared by all that user's
// client ids, one set for a client id alone by all users of it, and a
// default entity stands for each user (or client id) apart.
//
// Usage is a token bucket per entity and kind: it holds at most the
// quota times Windows × WindowSize, refills at the quota, and each
// request takes its amount; a request that leaves it below zero is
// throttled for the time the bucket needs to refill to zero (Kafka's
// (rate - quota) / quota × window, which is the excess over the quota
// divided by it). The bucket never owes more than it can hold. Kafka measures with a sampled rate over the windows,
// under which a greedy client's burst comes back each time the window
// that held it expires; the bucket gives the same long-run rate and the
// same first burst without that.
//
// It is safe for concurrent use. With no enforced quota set, Active is
// false and nothing else need be called.
type Limiter struct {
	cfg    Config
	quotas atomic.Pointer[map[Entity]map[string]float64] // nil: no enforced quota

	mu       sync.Mutex
	buckets  map[bucketKey]*bucket
	resolved map[client]resolution // for the current quotas
	sweepAt  int
}

// New returns a limiter with no quotas.
func New(cfg Config) *Limiter {
	return &Limiter{cfg: cfg.withDefaults(), buckets: map[bucketKey]*bucket{}, resolved: map[client]resolution{}, sweepAt: minSweep}
}

const minSweep = 1024

// Set replaces every quota. Usage measured so far is kept for the
// entities that still have a quota.
func (l *Limiter) Set(all map[Entity]map[string]float64) {
	enforced := map[Entity]map[string]float64{}
	for e, vals := range all {
		for _, k := range kindKeys {
			if v, ok := vals[k]; ok {
				if enforced[e] == nil {
					enforced[e] = map[string]float64{}
				}
				enforced[e][k] = v
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.resolved = map[client]resolution{}
	if len(enforced) == 0 {
		l.quotas.Store(nil)
		l.buckets = map[bucketKey]*bucket{}
		return
	}
	l.quotas.Store(&enforced)
}

// Active reports whether any enforced quota is set: the one check a
// request pays when none is.
func (l *Limiter) Active() bool { return l != nil && l.quotas.Load() != nil }

// Record counts amount of kind k against the quota of user (the
// principal's name) and client id, and returns how long to throttle the
// client: zero while it is within its quota.
func (l *Limiter) Record(k Kind, user, clientID string, amount float64, now time.Time) time.Duration {
	return max(l.take(k, user, clientID, amount, now, false), 0)
}

// TryRecord is Record for a fetch: when the amount would throttle, it is
// not counted and taken is false (the response goes without its records,
// as from Kafka), and the throttle is the time until it fits. A bucket
// that is full takes any amount, so a response larger than the burst
// still goes through, throttled.
func (l *Limiter) TryRecord(k Kind, user, clientID string, amount float64, now time.Time) (throttle time.Duration, taken bool) {
	d := l.take(k, user, clientID, amount, now, true)
	if d < 0 {
		return -d, false
	}
	return d, true
}

// Burst is the most of kind k the client may use at once, and whether it
// has a quota of that kind: a fetch is bounded by it, so it can be served.
func (l *Limiter) Burst(k Kind, user, clientID string) (float64, bool) {
	if !l.Active() {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.resolve(client{user, clientID})[k]
	if !r.ok {
		return 0, false
	}
	return l.capacity(r.quota), true
}

func (l *Limiter) capacity(q float64) float64 {
	return q * float64(l.cfg.Windows) * l.cfg.WindowSize.Seconds()
}

// take counts amount and returns the throttle; with try, an amount that
// would throttle is not counted and the throttle comes back negated.
func (l *Limiter) take(k Kind, user, clientID string, amount float64, now time.Time, try bool) time.Duration {
	if !l.Active() {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.resolve(client{user, clientID})[k]
	if !r.ok {
		return 0
	}
	b := l.buckets[r.key]
	if b == nil {
		b = &bucket{tokens: l.capacity(r.quota), at: now}
		l.buckets[r.key] = b
		l.maybeSweep(now)
	}
	cp := l.capacity(r.quota)
	b.refill(now, r.quota, cp)
	left := b.tokens - amount
	if try && left < 0 && b.tokens < cp {
		return -max(l.bound(k, secondsOf((amount-b.tokens)/r.quota)), 1)
	}
	// The debt kept is at most the burst: Kafka's rate forgets usage once
	// its windows have passed, so one huge request is not held against
	// the client for longer than that after its own throttle.
	b.tokens = max(left, -cp)
	if left >= 0 {
		return 0
	}
	return l.bound(k, secondsOf(-left/r.quota))
}

// bound caps a request-time throttle at one window, as Kafka does; byte
// rates are not capped.
func (l *Limiter) bound(k Kind, d time.Duration) time.Duration {
	if k == Request && d > l.cfg.WindowSize {
		return l.cfg.WindowSize
	}
	return d
}

func secondsOf(s float64) time.Duration {
	if s > float64(1<<62)/float64(time.Second) {
		return 1 << 62
	}
	return time.Duration(math.Round(s * float64(time.Second)))
}

// maybeSweep drops the buckets that are full: a full bucket is what a new
// one is, so dropping it forgets nothing, and clients that come and go
// (a new client id per connection) leave nothing behind. Requires l.mu.
func (l *Limiter) maybeSweep(now time.Time) {
	if len(l.buckets) < l.sweepAt {
		return
	}
	for key, b := range l.buckets {
		b.refill(now, b.quota, l.capacity(b.quota))
		if b.tokens >= l.capacity(b.quota) {
			delete(l.buckets, key)
		}
	}
	l.sweepAt = max(minSweep, 2*len(l.buckets))
}

type bucket struct {
	tokens float64
	at     time.Time
	quota  float64 // as of the last refill, for the sweep
}

func (b *bucket) refill(now time.Time, q, capacity float64) {
	if dt := now.Sub(b.at); dt > 0 {
		b.tokens += q * dt.Seconds()
		b.at = now
	}
	b.tokens = min(b.tokens, capacity)
	b.quota = q
}

// client is who a request comes from.
type client struct{ user, id string }

// bucketKey is whose usage a bucket measures: Kafka's sensor tags, with
// a part left out when the quota's entity has no such component.
type bucketKey struct {
	kind             Kind
	user, id         string
	byUser, byClient bool
}

type resolved struct {
	quota float64
	key   bucketKey
	ok    bool
}

type resolution [numKinds]resolved

// resolve finds each kind's quota for c, cached until the quotas change.
// Requires l.mu.
func (l *Limiter) resolve(c client) resolution {
	if r, ok := l.resolved[c]; ok {
		return r
	}
	var r resolution
	if qs := l.quotas.Load(); qs != nil {
		for k := range numKinds {
			r[k] = lookup(*qs, kindKeys[k], c.user, c.id)
			r[k].key.kind = k
		}
	}
	if len(l.resolved) >= 4*minSweep {
		clear(l.resolved)
	}
	l.resolved[c] = r
	return r
}

// Precedence is the order in which a user's and client id's quota is
// looked for (KIP-55): the most specific entity that sets the key wins.
// The returned entities use the given user and client id.
func Precedence(user, clientID string) []Entity {
	u, c := Named(user), Named(clientID)
	return []Entity{
		{User: u, ClientID: c},
		{User: u, ClientID: Default},
		{User: u},
		{User: Default, ClientID: c},
		{User: Default, ClientID: Default},
		{User: Default},
		{ClientID: c},
		{ClientID: Default},
	}
}

// lookup finds key's quota for a user and client id in quotas, and
// which entity's usage it is measured against.
func lookup(quotas map[Entity]map[string]float64, key, user, clientID string) resolved {
	for _, e := range Precedence(user, clientID) {
		if v, ok := quotas[e][key]; ok {
			k := bucketKey{byUser: e.User.Set, byClient: e.ClientID.Set}
			if k.byUser {
				k.user = user
			}
			if k.byClient {
				k.id = clientID
			}
			return resolved{quota: v, ok: true, key: k}
		}
	}
	return resolved{}
}
