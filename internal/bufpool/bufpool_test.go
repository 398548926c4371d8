package bufpool

import "testing"

func TestClasses(t *testing.T) {
	for _, c := range []struct{ n, cap int }{{1, 64 << 10}, {64 << 10, 64 << 10}, {64<<10 + 1, 128 << 10}, {3 << 20, 4 << 20}, {128 << 20, 128 << 20}, {128<<20 + 1, 128<<20 + 1}} {
		b := Get(c.n)
		if len(b) != c.n || cap(b) != c.cap {
			t.Errorf("Get(%d): len %d cap %d, want %d %d", c.n, len(b), cap(b), c.n, c.cap)
		}
		Put(b)
	}
}

func TestPutKeepsOnlyClassSizes(t *testing.T) {
	Put(make([]byte, 100<<10)) // not a class size: dropped
	b := Get(100 << 10)
	if cap(b) != 128<<10 {
		t.Fatalf("cap %d, want 128 KiB", cap(b))
	}
}

// The point of the pool: a buffer put back is handed out again (the pool
// may drop some, as sync.Pool does, so a few tries are allowed).
func TestReuse(t *testing.T) {
	for range 10 {
		b := Get(1 << 20)
		b[0] = 1
		Put(b)
		if c := Get(1 << 20); &c[0] == &b[0] {
			return
		}
	}
	t.Fatal("no buffer was reused in 10 tries")
}
