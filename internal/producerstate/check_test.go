package producerstate

import (
	"math"
	"testing"
)

func TestLastSequenceWraps(t *testing.T) {
	cases := []struct {
		base, count, want int32
	}{
		{0, 1, 0},
		{0, 5, 4},
		{math.MaxInt32, 1, math.MaxInt32},
		{math.MaxInt32, 2, 0},
		{math.MaxInt32 - 2, 10, 6},
		{math.MaxInt32, math.MaxInt32, math.MaxInt32 - 2},
	}
	for _, c := range cases {
		if got := lastSequence(c.base, c.count); got != c.want {
			t.Errorf("lastSequence(%d, %d) = %d, want %d", c.base, c.count, got, c.want)
		}
	}
}

func TestInSequence(t *testing.T) {
	cases := []struct {
		last, next int32
		want       bool
	}{
		{-1, 0, true},
		{4, 5, true},
		{4, 6, false},
		{4, 4, false},
		{math.MaxInt32, 0, true},
		{math.MaxInt32, math.MinInt32, false},
		{math.MaxInt32 - 1, math.MaxInt32, true},
	}
	for _, c := range cases {
		if got := inSequence(c.last, c.next); got != c.want {
			t.Errorf("inSequence(%d, %d) = %v, want %v", c.last, c.next, got, c.want)
		}
	}
}

func TestVerdictFields(t *testing.T) {
	s := New(Config{})
	b := Batch{ProducerID: 1, Epoch: 0, BaseSequence: 0, RecordCount: 3, FirstOffset: 40, LastOffset: 42, MaxTimestamp: 777}
	ok := s.Check(b)
	want := Verdict{FirstOffset: -1, LastOffset: -1, LogAppendTime: -1, BatchTimestamp: -1}
	if ok != want {
		t.Errorf("accepted: %+v, want %+v", ok, want)
	}
	s.Apply(b)
	retry := b
	retry.FirstOffset, retry.LastOffset, retry.MaxTimestamp = 50, 52, 999
	want = Verdict{Duplicate: true, FirstOffset: 40, LastOffset: 42, LogAppendTime: -1, BatchTimestamp: 777}
	if got := s.Check(retry); got != want {
		t.Errorf("duplicate: %+v, want %+v", got, want)
	}
	gap := Batch{ProducerID: 1, BaseSequence: 9, RecordCount: 1}
	want = Verdict{Code: 45, Reason: "out of order sequence number for producer 1: 9 (incoming), 2 (last appended)",
		FirstOffset: -1, LastOffset: -1, LogAppendTime: -1, BatchTimestamp: -1}
	if got := s.Check(gap); got != want {
		t.Errorf("gap: %+v, want %+v", got, want)
	}
}

func TestProducersSortedAndEmpty(t *testing.T) {
	s := New(Config{})
	if p := s.Producers(); p == nil || len(p) != 0 {
		t.Errorf("empty state: %#v, want an empty non-nil slice", p)
	}
	if ids := s.Expire(1 << 62); len(ids) != 0 {
		t.Errorf("expire on empty state: %v", ids)
	}
	for _, id := range []int64{5, 3, 9, 1} {
		s.Apply(Batch{ProducerID: id, Epoch: int16(id), BaseSequence: 0, RecordCount: int32(id), MaxTimestamp: id * 100})
	}
	want := []Producer{
		{1, 1, 0, 100, -1, -1},
		{3, 3, 2, 300, -1, -1},
		{5, 5, 4, 500, -1, -1},
		{9, 9, 8, 900, -1, -1},
	}
	got := s.Producers()
	if len(got) != len(want) || s.Len() != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("producer %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// FuzzCheckApply drives one producer with arbitrary batches: Check and Apply
// never panic, Check never changes the state, and the invariants hold.
func FuzzCheckApply(f *testing.F) {
	f.Add(int16(0), int32(0), int32(1), int16(0), int32(1), int32(1))
	f.Add(int16(3), int32(math.MaxInt32), int32(2), int16(3), int32(0), int32(1))
	f.Fuzz(func(t *testing.T, e1 int16, s1, c1 int32, e2 int16, s2, c2 int32) {
		s := New(Config{})
		first := Batch{ProducerID: 1, Epoch: e1, BaseSequence: s1, RecordCount: c1, FirstOffset: 0, LastOffset: 0}
		s.Check(first)
		s.Apply(first)
		before := dump(s)
		second := Batch{ProducerID: 1, Epoch: e2, BaseSequence: s2, RecordCount: c2, FirstOffset: 1, LastOffset: 1}
		v := s.Check(second)
		if after := dump(s); after[0] != before[0] {
			t.Fatalf("Check changed the state: %q -> %q", before, after)
		}
		if v.Duplicate && (v.Code != 0 || v.FirstOffset != 0) {
			t.Fatalf("bad duplicate verdict %+v", v)
		}
		if v.Duplicate != (e1 == e2 && s1 == s2 && lastSequence(s1, c1) == lastSequence(s2, c2)) {
			t.Fatalf("duplicate=%v for %+v after %+v", v.Duplicate, second, first)
		}
		s.Apply(second)
		if n := len(s.producers[1].batches); n < 1 || n > batchesToRetain {
			t.Fatalf("%d batches retained", n)
		}
	})
}
