package group

import (
	"reflect"
	"testing"
	"time"
)

func TestOffsetsApplyAndExpire(t *testing.T) {
	o := NewOffsets()
	tp0, tp1 := TopicPartition{"t", 0}, TopicPartition{"t", 1}
	day := int64(24 * time.Hour / time.Millisecond)
	o.Apply("g", tp0, &Committed{Offset: 5, LeaderEpoch: -1, CommitTime: 0})
	o.Apply("g", tp1, &Committed{Offset: 9, LeaderEpoch: 2, Metadata: "m", CommitTime: 3 * day})
	o.Apply("g", tp0, &Committed{Offset: 7, LeaderEpoch: -1, CommitTime: 1 * day}) // a later commit wins
	if c, _ := o.Get("g", tp0); c.Offset != 7 {
		t.Fatalf("tp0 = %d, want 7", c.Offset)
	}
	retention := 7 * 24 * time.Hour
	now := time.UnixMilli(9 * day)
	// Empty since day 1: tp0 (committed day 1) expires at day 8, tp1 (day 3) at day 10.
	if got := o.Expired("g", time.UnixMilli(day), now, retention); !reflect.DeepEqual(got, []TopicPartition{tp0}) {
		t.Fatalf("expired %v, want [tp0]", got)
	}
	// A group that became empty only on day 5 keeps everything until day 12.
	if got := o.Expired("g", time.UnixMilli(5*day), now, retention); len(got) != 0 {
		t.Fatalf("expired %v, want none", got)
	}
	o.Apply("g", tp0, nil)
	o.Apply("g", tp1, nil)
	if o.HasGroup("g") || len(o.Groups()) != 0 {
		t.Fatal("tombstones left the group behind")
	}
}

func TestOffsetRecordRoundTrip(t *testing.T) {
	c := &Committed{Offset: 42, LeaderEpoch: 3, Metadata: "meta", CommitTime: 1700000000000}
	r := encodeOffset("grp", TopicPartition{"topic", 7}, c)
	got, err := decodeOffset(r.Key, r.Value)
	if err != nil || got.group != "grp" || got.tp != (TopicPartition{"topic", 7}) || *got.value != *c {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	tomb := encodeOffset("grp", TopicPartition{"topic", 7}, nil)
	got, err = decodeOffset(tomb.Key, tomb.Value)
	if err != nil || got.value != nil {
		t.Fatalf("tombstone: %+v %v", got, err)
	}
	if _, err := decodeOffset([]byte{0, 2, 0, 1, 'g'}, nil); err == nil {
		t.Fatal("a group metadata key (version 2) decoded as an offset")
	}
}
