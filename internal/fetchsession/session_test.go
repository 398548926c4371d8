package fetchsession

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func key(topic string, p int32) Key { return Key{Topic: topic, Partition: p} }

// caughtUp is a read of a partition with nothing new at high watermark hw.
func caughtUp(hw int64) Read { return Read{HighWatermark: hw, LastStableOffset: hw, LogStartOffset: 0} }

// newTestSession creates a session of partitions "t"/0..n-1, each told
// caughtUp(10), and returns the cache and the session.
func newTestSession(t *testing.T, n int) (*Cache, int32) {
	t.Helper()
	c := New(Config{Seed: 1})
	parts := make([]Partition, n)
	for i := range parts {
		parts[i] = NewPartition(key("t", int32(i)), Params{FetchOffset: 10, MaxBytes: 1 << 20}, caughtUp(10))
	}
	id := c.Create(t0, false, false, parts)
	if id <= 0 {
		t.Fatalf("Create returned id %d, want a positive id", id)
	}
	return c, id
}

func noChange(*Session) {}

// begin runs an incremental fetch's first step and fails on error.
func begin(t *testing.T, c *Cache, id, epoch int32, update func(*Session)) *Session {
	t.Helper()
	s, err := c.Incremental(t0, id, epoch, false, update)
	if err != nil || s == nil {
		t.Fatalf("Incremental(id %d, epoch %d) = %v, %v", id, epoch, s, err)
	}
	return s
}

// offerAll offers reads[k] (caughtUp(10) when absent) for every partition
// and returns the partitions selected for the response, in order.
func offerAll(t *testing.T, s *Session, epoch int32, reads map[Key]Read) []Key {
	t.Helper()
	var out []Key
	err := s.Visit(epoch, func(p *Partition) {
		r, ok := reads[p.Key]
		if !ok {
			r = caughtUp(10)
		}
		if p.Offer(r) {
			out = append(out, p.Key)
		}
	})
	if err != nil {
		t.Fatalf("Visit at epoch %d: %v", epoch, err)
	}
	return out
}

// order is the session's fetch order.
func order(s *Session) []Key {
	var out []Key
	for _, p := range s.parts {
		out = append(out, p.Key)
	}
	return out
}

func TestEpochsAreCheckedAndMoveOn(t *testing.T) {
	c, id := newTestSession(t, 2)
	if _, err := c.Incremental(t0, id, 0, false, noChange); !errors.Is(err, ErrEpoch) {
		t.Fatalf("epoch 0 on a new session: %v, want ErrEpoch", err)
	}
	if _, err := c.Incremental(t0, id, 2, false, noChange); !errors.Is(err, ErrEpoch) {
		t.Fatalf("epoch 2 on a new session: %v, want ErrEpoch", err)
	}
	s := begin(t, c, id, 1, noChange)
	if _, err := c.Incremental(t0, id, 1, false, noChange); !errors.Is(err, ErrEpoch) {
		t.Fatalf("epoch 1 repeated: %v, want ErrEpoch", err)
	}
	if err := s.Finish(1); err != nil {
		t.Fatal(err)
	}
	begin(t, c, id, 2, noChange)
	if _, err := c.Incremental(t0, id+1, 1, false, noChange); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v, want ErrNotFound", err)
	}
	if _, err := c.Incremental(t0, id, 3, true, noChange); !errors.Is(err, ErrTopicIDs) {
		t.Fatalf("topic ids in a session of names: %v, want ErrTopicIDs", err)
	}
}

func TestNextEpochWrapsToOne(t *testing.T) {
	for _, tc := range []struct{ in, want int32 }{{0, 1}, {1, 2}, {math.MaxInt32, 1}, {-1, -1}, {-7, -1}} {
		if got := NextEpoch(tc.in); got != tc.want {
			t.Errorf("NextEpoch(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// A request overtaken by a later one of the same session can neither read
// nor record what it told the client.
func TestOvertakenFetchFailsAndChangesNothing(t *testing.T) {
	c, id := newTestSession(t, 1)
	s := begin(t, c, id, 1, noChange)
	if got := offerAll(t, s, 1, map[Key]Read{key("t", 0): caughtUp(20)}); len(got) != 1 {
		t.Fatalf("selected %v, want t/0", got)
	}
	begin(t, c, id, 2, noChange) // a later request moves the session on
	if err := s.Finish(1); !errors.Is(err, ErrEpoch) {
		t.Fatalf("Finish of the overtaken fetch: %v, want ErrEpoch", err)
	}
	if err := s.Visit(1, func(*Partition) { t.Fatal("visited for an overtaken fetch") }); !errors.Is(err, ErrEpoch) {
		t.Fatalf("Visit of the overtaken fetch: %v, want ErrEpoch", err)
	}
	// The client was never told hw 20 by the overtaken fetch: the current
	// one must still carry it.
	if got := offerAll(t, s, 2, map[Key]Read{key("t", 0): caughtUp(20)}); len(got) != 1 {
		t.Fatalf("selected %v after the overtaken fetch, want t/0", got)
	}
}

// An incremental response carries a partition only when something the
// client sees changed; a failure is always carried, and the partition is
// carried again once the failure clears.
func TestOfferSelectsWhatChanged(t *testing.T) {
	c, id := newTestSession(t, 1)
	k := key("t", 0)
	steps := []struct {
		name string
		read Read
		want bool
	}{
		{"nothing new", caughtUp(10), false},
		{"records", Read{HighWatermark: 10, LastStableOffset: 10, Records: 100}, true},
		{"high watermark", Read{HighWatermark: 11, LastStableOffset: 10}, true},
		{"same again", Read{HighWatermark: 11, LastStableOffset: 10}, false},
		{"last stable offset", Read{HighWatermark: 11, LastStableOffset: 11}, true},
		{"log start offset", Read{HighWatermark: 11, LastStableOffset: 11, LogStartOffset: 5}, true},
		{"error", Read{HighWatermark: 11, LastStableOffset: 11, LogStartOffset: 5, Failed: true}, true},
		{"error again", Read{HighWatermark: 11, LastStableOffset: 11, LogStartOffset: 5, Failed: true}, true},
		{"error cleared, offsets as before it", Read{HighWatermark: 11, LastStableOffset: 11, LogStartOffset: 5}, true},
		{"quiet", Read{HighWatermark: 11, LastStableOffset: 11, LogStartOffset: 5}, false},
	}
	for i, st := range steps {
		epoch := int32(i + 1)
		s := begin(t, c, id, epoch, noChange)
		got := offerAll(t, s, epoch, map[Key]Read{k: st.read})
		if (len(got) == 1) != st.want {
			t.Fatalf("step %d (%s): selected %v, want selected=%v", i, st.name, got, st.want)
		}
		if err := s.Finish(epoch); err != nil {
			t.Fatal(err)
		}
	}
}

// Only the last read of a fetch (a long poll reads several times) counts
// as told.
func TestFinishKeepsTheLastRead(t *testing.T) {
	c, id := newTestSession(t, 1)
	s := begin(t, c, id, 1, noChange)
	offerAll(t, s, 1, map[Key]Read{key("t", 0): caughtUp(15)})
	offerAll(t, s, 1, map[Key]Read{key("t", 0): caughtUp(20)})
	if err := s.Finish(1); err != nil {
		t.Fatal(err)
	}
	s = begin(t, c, id, 2, noChange)
	if got := offerAll(t, s, 2, map[Key]Read{key("t", 0): caughtUp(20)}); len(got) != 0 {
		t.Fatalf("selected %v at the hw last told, want none", got)
	}
}

// Partitions that returned records go to the back, in their order.
func TestFinishRotatesPartitionsWithRecords(t *testing.T) {
	c, id := newTestSession(t, 5)
	s := begin(t, c, id, 1, noChange)
	recs := Read{HighWatermark: 10, LastStableOffset: 10, Records: 1}
	got := offerAll(t, s, 1, map[Key]Read{key("t", 1): recs, key("t", 3): recs})
	if want := []Key{key("t", 1), key("t", 3)}; !slices.Equal(got, want) {
		t.Fatalf("selected %v, want %v", got, want)
	}
	if err := s.Finish(1); err != nil {
		t.Fatal(err)
	}
	want := []Key{key("t", 0), key("t", 2), key("t", 4), key("t", 1), key("t", 3)}
	if got := order(s); !slices.Equal(got, want) {
		t.Fatalf("fetch order %v, want %v", got, want)
	}
}

// An update adds partitions at the back (carried in the next response
// whatever they read), changes what is asked for others and forgets some;
// forgetting every partition closes the session.
func TestUpdateAddsChangesAndForgets(t *testing.T) {
	c, id := newTestSession(t, 3)
	s := begin(t, c, id, 1, func(s *Session) {
		s.Set(key("t", 1), Params{FetchOffset: 42, MaxBytes: 7})
		s.Set(key("u", 0), Params{FetchOffset: 0, MaxBytes: 1 << 20})
		s.Forget(key("t", 0))
		s.Forget(key("nope", 9))
	})
	if want := []Key{key("t", 1), key("t", 2), key("u", 0)}; !slices.Equal(order(s), want) {
		t.Fatalf("fetch order %v, want %v", order(s), want)
	}
	if p := s.index[key("t", 1)]; p.FetchOffset != 42 || p.MaxBytes != 7 {
		t.Fatalf("t/1 asks %+v, want offset 42, max bytes 7", p.Params)
	}
	got := offerAll(t, s, 1, map[Key]Read{key("u", 0): caughtUp(0)})
	if want := []Key{key("u", 0)}; !slices.Equal(got, want) {
		t.Fatalf("selected %v, want the new partition only", got)
	}
	if err := s.Finish(1); err != nil {
		t.Fatal(err)
	}
	s, err := c.Incremental(t0, id, 2, false, func(s *Session) {
		for _, k := range order(s) {
			s.Forget(k)
		}
	})
	if s != nil || err != nil {
		t.Fatalf("forgetting everything: %v, %v; want nil, nil (sessionless)", s, err)
	}
	if _, err := c.Incremental(t0, id, 3, false, noChange); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after the session emptied: %v, want ErrNotFound", err)
	}
}

// A partition named twice in the creating fetch is kept once, as named
// last.
func TestCreateKeepsTheLastOfDuplicates(t *testing.T) {
	c := New(Config{})
	id := c.Create(t0, false, false, []Partition{
		NewPartition(key("t", 0), Params{FetchOffset: 1}, caughtUp(10)),
		NewPartition(key("t", 1), Params{FetchOffset: 1}, caughtUp(10)),
		NewPartition(key("t", 0), Params{FetchOffset: 5}, caughtUp(10)),
	})
	s := begin(t, c, id, 1, noChange)
	if want := []Key{key("t", 0), key("t", 1)}; !slices.Equal(order(s), want) {
		t.Fatalf("fetch order %v, want %v", order(s), want)
	}
	if got := s.index[key("t", 0)].FetchOffset; got != 5 {
		t.Fatalf("t/0 fetch offset %d, want 5", got)
	}
}

// A partition that failed in the creating fetch is carried again when it
// reads cleanly, even at the offsets it had.
func TestCreateFromAFailedRead(t *testing.T) {
	c := New(Config{})
	id := c.Create(t0, false, false, []Partition{
		NewPartition(key("t", 0), Params{}, Read{HighWatermark: 10, LastStableOffset: 10, Failed: true}),
	})
	s := begin(t, c, id, 1, noChange)
	if got := offerAll(t, s, 1, nil); len(got) != 1 {
		t.Fatalf("selected %v, want t/0", got)
	}
}
