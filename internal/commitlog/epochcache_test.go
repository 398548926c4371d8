package commitlog

import (
	"fmt"
	"testing"
)

// cacheOf builds a cache from "epoch@start" pairs.
func cacheOf(highest int32, entries ...EpochEntry) *epochCache {
	c := newEpochCache()
	c.reset(highest, append([]EpochEntry(nil), entries...))
	return c
}

func entriesString(c *epochCache) string {
	highest, entries := c.snapshot()
	return fmt.Sprintf("highest=%d %v latest=%d", highest, entries, c.latest.Load())
}

// Kafka's assign rule (KIP-279): a new epoch drops every entry that would
// break the order; the latest epoch again at a later offset changes nothing.
func TestEpochCacheAssign(t *testing.T) {
	for _, tc := range []struct {
		name    string
		before  []EpochEntry
		assign  EpochEntry
		changed bool
		want    string
	}{
		{"first", nil, EpochEntry{0, 0}, true, "highest=0 [{0 0}] latest=0"},
		{"next epoch", []EpochEntry{{0, 0}}, EpochEntry{1, 10}, true, "highest=1 [{0 0} {1 10}] latest=1"},
		{"same epoch later", []EpochEntry{{0, 0}}, EpochEntry{0, 10}, false, "highest=0 [{0 0}] latest=0"},
		{"same epoch earlier", []EpochEntry{{0, 0}, {1, 10}}, EpochEntry{1, 5}, true, "highest=1 [{0 0} {1 5}] latest=1"},
		{"new epoch where the last began", []EpochEntry{{0, 0}, {1, 10}}, EpochEntry{2, 10}, true, "highest=2 [{0 0} {2 10}] latest=2"},
		{"older epoch replaces newer ones", []EpochEntry{{0, 0}, {1, 10}, {2, 20}}, EpochEntry{1, 15}, true, "highest=2 [{0 0} {1 15}] latest=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cacheOf(NoEpoch, tc.before...)
			if n := len(tc.before); n > 0 {
				c.highest = tc.before[n-1].Epoch
			}
			if got := c.assign(tc.assign); got != tc.changed {
				t.Errorf("assign changed = %v, want %v", got, tc.changed)
			}
			if got := entriesString(c); got != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// The end is cut: entries starting at or after the new end go, and the
// highest epoch stays.
func TestEpochCacheTruncateFromEnd(t *testing.T) {
	c := cacheOf(3, EpochEntry{0, 0}, EpochEntry{1, 10}, EpochEntry{3, 20})
	if c.truncateFromEnd(25) {
		t.Fatal("cut at 25 changed the cache")
	}
	if !c.truncateFromEnd(10) {
		t.Fatal("cut at 10 changed nothing")
	}
	if got, want := entriesString(c), "highest=3 [{0 0}] latest=0"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	c.truncateFromEnd(0)
	if got, want := entriesString(c), "highest=3 [] latest=-1"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// The start moves: entries at or below it fold into the last of them,
// moved to the new start.
func TestEpochCacheTruncateFromStart(t *testing.T) {
	for _, tc := range []struct {
		start   int64
		changed bool
		want    string
	}{
		{0, false, "highest=3 [{0 0} {1 10} {3 20}] latest=3"},
		{5, true, "highest=3 [{0 5} {1 10} {3 20}] latest=3"},
		{10, true, "highest=3 [{1 10} {3 20}] latest=3"},
		{15, true, "highest=3 [{1 15} {3 20}] latest=3"},
		{30, true, "highest=3 [{3 30}] latest=3"},
	} {
		c := cacheOf(3, EpochEntry{0, 0}, EpochEntry{1, 10}, EpochEntry{3, 20})
		if got := c.truncateFromStart(tc.start); got != tc.changed {
			t.Errorf("start %d: changed = %v, want %v", tc.start, got, tc.changed)
		}
		if got := entriesString(c); got != tc.want {
			t.Errorf("start %d: got %s, want %s", tc.start, got, tc.want)
		}
	}
}

// OffsetForLeaderEpoch's answers (KIP-101, KIP-279) for a log [5, 40)
// written by epochs 1 (from 5), 3 (from 20) and 4 (from 30).
func TestEpochCacheEndOffsetFor(t *testing.T) {
	c := cacheOf(4, EpochEntry{1, 5}, EpochEntry{3, 20}, EpochEntry{4, 30})
	for _, tc := range []struct {
		epoch     int32
		wantEpoch int32
		wantEnd   int64
	}{
		{4, 4, 40},                   // the latest epoch ends at the log end
		{3, 3, 30},                   // an older epoch ends where the next begins
		{1, 1, 20},                   // ...
		{2, 1, 20},                   // an epoch that wrote nothing: the epoch before it, and the next start
		{0, 0, 5},                    // below every known epoch: the first known start
		{5, NoEpoch, NoOffset},       // a future epoch
		{NoEpoch, NoEpoch, NoOffset}, // no epoch asked
	} {
		e, end := c.endOffsetFor(tc.epoch, 40)
		if e != tc.wantEpoch || end != tc.wantEnd {
			t.Errorf("epoch %d: got (%d, %d), want (%d, %d)", tc.epoch, e, end, tc.wantEpoch, tc.wantEnd)
		}
	}
	if e, end := newEpochCache().endOffsetFor(0, 40); e != NoEpoch || end != NoOffset {
		t.Errorf("empty cache: got (%d, %d)", e, end)
	}
}

func TestEpochCacheEpochForOffset(t *testing.T) {
	c := cacheOf(4, EpochEntry{1, 5}, EpochEntry{3, 20}, EpochEntry{4, 30})
	for _, tc := range []struct {
		offset int64
		want   int32
		ok     bool
	}{{4, NoEpoch, false}, {5, 1, true}, {19, 1, true}, {20, 3, true}, {29, 3, true}, {30, 4, true}, {99, 4, true}} {
		if got, ok := c.epochForOffset(tc.offset); got != tc.want || ok != tc.ok {
			t.Errorf("offset %d: got (%d, %v), want (%d, %v)", tc.offset, got, ok, tc.want, tc.ok)
		}
	}
}
