package fetchsession

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

const evictAfter = 2 * time.Minute

// sized is n partitions of topic t.
func sized(t string, n int) []Partition {
	parts := make([]Partition, n)
	for i := range parts {
		parts[i] = NewPartition(key(t, int32(i)), Params{}, caughtUp(0))
	}
	return parts
}

// use runs an empty incremental fetch on id at now, as a client keeping
// its session alive does, and returns the next epoch.
func use(t *testing.T, c *Cache, id, epoch int32, now time.Time) int32 {
	t.Helper()
	s, err := c.Incremental(now, id, epoch, false, noChange)
	if err != nil {
		t.Fatalf("use session %d at epoch %d: %v", id, epoch, err)
	}
	if err := s.Finish(epoch); err != nil {
		t.Fatal(err)
	}
	return NextEpoch(epoch)
}

func alive(c *Cache, id int32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions[id] != nil
}

// Each case fills a two-slot cache with a and b at t0, uses both at
// t0+used (or, with used 0, only b, 1 ms later), then tries to create n at
// t0+at. It checks which session, if any, was evicted.
func TestEvictionRules(t *testing.T) {
	type sess struct {
		privileged bool
		size       int
	}
	for _, tc := range []struct {
		name     string
		a, b, n  sess
		used, at time.Duration
		want     string // "a", "b": which old session was evicted; "" none (n gets no session)
	}{
		{name: "young sessions are not evicted for size", a: sess{false, 1}, b: sess{false, 2}, n: sess{false, 3},
			used: time.Minute, at: time.Minute},
		{name: "the smallest old session is evicted by a larger one", a: sess{false, 2}, b: sess{false, 1}, n: sess{false, 3},
			used: 3 * time.Minute, at: 3 * time.Minute, want: "b"},
		{name: "equal size does not evict", a: sess{false, 2}, b: sess{false, 2}, n: sess{false, 2},
			used: 3 * time.Minute, at: 3 * time.Minute},
		{name: "smaller does not evict", a: sess{false, 2}, b: sess{false, 3}, n: sess{false, 1},
			used: 3 * time.Minute, at: 3 * time.Minute},
		{name: "a stale session is evicted by anyone, even smaller", a: sess{false, 5}, b: sess{false, 5}, n: sess{false, 1},
			used: 0, at: evictAfter + time.Second, want: "a"},
		{name: "unused exactly EvictAfter is not stale", a: sess{false, 5}, b: sess{false, 5}, n: sess{false, 1},
			used: 0, at: evictAfter},
		{name: "a follower evicts a young consumer session", a: sess{false, 9}, b: sess{false, 4}, n: sess{true, 1},
			used: 0, at: time.Second, want: "b"},
		{name: "a follower evicts consumers before followers", a: sess{true, 1}, b: sess{false, 9}, n: sess{true, 1},
			used: 3 * time.Minute, at: 3 * time.Minute, want: "b"},
		{name: "a consumer never evicts a follower by size", a: sess{true, 1}, b: sess{true, 1}, n: sess{false, 100},
			used: 3 * time.Minute, at: 3 * time.Minute},
		{name: "a follower evicts an old smaller follower", a: sess{true, 3}, b: sess{true, 1}, n: sess{true, 2},
			used: 3 * time.Minute, at: 3 * time.Minute, want: "b"},
		{name: "a follower does not evict a young follower", a: sess{true, 1}, b: sess{true, 1}, n: sess{true, 2},
			used: time.Minute, at: time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{Slots: 2, EvictAfter: evictAfter, Seed: 7})
			a := c.Create(t0, tc.a.privileged, false, sized("a", tc.a.size))
			b := c.Create(t0, tc.b.privileged, false, sized("b", tc.b.size))
			if a == 0 || b == 0 || a == b {
				t.Fatalf("ids %d, %d", a, b)
			}
			if tc.used > 0 {
				use(t, c, a, 1, t0.Add(tc.used))
				use(t, c, b, 1, t0.Add(tc.used))
			} else {
				use(t, c, b, 1, t0.Add(time.Millisecond)) // a is the least recently used
			}
			n := c.Create(t0.Add(tc.at), tc.n.privileged, false, sized("n", tc.n.size))
			got := ""
			switch {
			case !alive(c, a):
				got = "a"
			case !alive(c, b):
				got = "b"
			}
			if got != tc.want {
				t.Fatalf("evicted %q, want %q", got, tc.want)
			}
			if (n != 0) != (tc.want != "") || c.Len() != 2 {
				t.Fatalf("new session id %d with %d sessions held; want a session iff one was evicted", n, c.Len())
			}
		})
	}
}

// Among stale sessions the least recently used goes first.
func TestStaleEvictionTakesTheLeastRecentlyUsed(t *testing.T) {
	c := New(Config{Slots: 3, EvictAfter: evictAfter})
	ids := []int32{c.Create(t0, false, false, sized("a", 1)), c.Create(t0, false, false, sized("b", 1)), c.Create(t0, false, false, sized("c", 1))}
	use(t, c, ids[0], 1, t0.Add(2*time.Second))
	use(t, c, ids[2], 1, t0.Add(1*time.Second))
	later := t0.Add(evictAfter + 3*time.Second)
	for i, want := range []int32{ids[1], ids[2], ids[0]} {
		if c.Create(later, false, false, sized("n", 1)) == 0 {
			t.Fatalf("create %d: no session", i)
		}
		if alive(c, want) {
			t.Fatalf("create %d: session %d still held, want it evicted as the least recently used", i, want)
		}
	}
}

func TestNoSlotsMeansNoSessions(t *testing.T) {
	c := New(Config{Slots: -1})
	if id := c.Create(t0, true, false, sized("a", 1)); id != 0 || c.Len() != 0 {
		t.Fatalf("Create with no slots = %d (%d held), want 0", id, c.Len())
	}
}

func TestRemoveClosesTheSession(t *testing.T) {
	c, id := newTestSession(t, 1)
	c.Remove(id)
	c.Remove(id + 1) // unknown: nothing happens
	if _, err := c.Incremental(t0, id, 1, false, noChange); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after Remove: %v, want ErrNotFound", err)
	}
}

// Ids are positive, distinct, and the same for the same seed.
func TestSessionIDs(t *testing.T) {
	ids := func() []int32 {
		c := New(Config{Seed: 42})
		var out []int32
		for range 100 {
			out = append(out, c.Create(t0, false, false, sized("a", 1)))
		}
		return out
	}
	first, again := ids(), ids()
	seen := map[int32]bool{}
	for i, id := range first {
		if id <= 0 || seen[id] || id != again[i] {
			t.Fatalf("id %d: %d (again %d), seen before %v", i, id, again[i], seen[id])
		}
		seen[id] = true
	}
}

// Many clients at once, each on its own session, with sessions created,
// used and closed concurrently: run under -race, every fetch keeps its
// epochs and sees only its own partitions.
func TestConcurrentSessions(t *testing.T) {
	c := New(Config{Slots: 8})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			topic := fmt.Sprintf("t%d", g)
			for round := range 20 {
				id := c.Create(t0, false, false, sized(topic, 3))
				if id == 0 {
					errs <- fmt.Errorf("client %d round %d: no session", g, round)
					return
				}
				epoch := int32(1)
				for range 10 {
					s, err := c.Incremental(t0, id, epoch, false, noChange)
					if err != nil {
						errs <- fmt.Errorf("client %d: %w", g, err)
						return
					}
					_ = s.Visit(epoch, func(p *Partition) {
						if p.Topic != topic {
							errs <- fmt.Errorf("client %d saw %s", g, p.Topic)
						}
						p.Offer(caughtUp(int64(round)))
					})
					if err := s.Finish(epoch); err != nil {
						errs <- err
						return
					}
					epoch = NextEpoch(epoch)
				}
				c.Remove(id)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if c.Len() != 0 {
		t.Fatalf("%d sessions left, want 0", c.Len())
	}
}
