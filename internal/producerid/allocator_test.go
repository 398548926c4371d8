package producerid

import (
	"errors"
	"testing"
)

type fakeSource struct {
	next  int64
	calls int
	fail  bool
}

func (f *fakeSource) AllocateProducerIDs(n int64) (int64, error) {
	if f.fail {
		return 0, errors.New("disk full")
	}
	f.calls++
	first := f.next
	f.next += n
	return first, nil
}

func TestAllocatorBlocks(t *testing.T) {
	src := &fakeSource{}
	a := New(src)
	for i := int64(0); i < BlockSize+1; i++ {
		id, err := a.Next()
		if err != nil || id != i {
			t.Fatalf("id %d: got %d %v", i, id, err)
		}
	}
	if src.calls != 2 {
		t.Fatalf("%d blocks reserved for %d ids, want 2", src.calls, BlockSize+1)
	}
	// A restart starts a fresh block: ids of the old one are never reused.
	b := New(src)
	if id, _ := b.Next(); id != 2*BlockSize {
		t.Fatalf("after restart: %d, want %d", id, 2*BlockSize)
	}
	src.fail = true
	c := New(src)
	if _, err := c.Next(); err == nil {
		t.Fatal("allocation without a durable block succeeded")
	}
}
