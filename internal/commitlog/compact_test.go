package commitlog

import (
	"testing"
	"time"

	"sluice/internal/vfs"
)

func TestRollAndDeleteBefore(t *testing.T) {
	l, err := Open(vfs.NewMem(), "/d", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Roll(); err != nil || l.Segments() != 1 {
		t.Fatalf("roll of an empty active segment: %v, %d segments", err, l.Segments())
	}
	now := time.Unix(1000, 0)
	for i := int64(0); i < 6; i++ {
		if err := l.Append(makeBatch(i, 1, now.UnixMilli(), 10), now); err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			if err := l.Roll(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Segments: [0,1] [2,3] [4,5] and an empty active one at 6.
	if n := l.Segments(); n != 4 {
		t.Fatalf("%d segments, want 4", n)
	}
	n, err := l.DeleteBefore(3)
	if err != nil || n != 1 || l.StartOffset() != 2 {
		t.Fatalf("DeleteBefore(3): %d %v, start %d; want 1 segment, start 2", n, err, l.StartOffset())
	}
	n, err = l.DeleteBefore(100)
	if err != nil || n != 2 || l.StartOffset() != 6 || l.NextOffset() != 6 {
		t.Fatalf("DeleteBefore(100): %d %v, start %d next %d", n, err, l.StartOffset(), l.NextOffset())
	}
}
