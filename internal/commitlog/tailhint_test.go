package commitlog

import (
	"bytes"
	"sync"
	"testing"

	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// A read at the end of the log finds the batch last appended without the
// index, and a truncation that cuts it makes reads find what was appended
// after the cut, never the batch that was there before.
func TestTailHint(t *testing.T) {
	// An index entry every 64 batches: without the hint, a read of the
	// last batch walks headers from the first.
	cfg := Config{IndexIntervalBytes: 64 * testBatchSize}
	l := openLog(t, vfs.NewMem(), cfg)
	batches := appendN(t, l, 10, t0)
	s := l.segs[len(l.segs)-1]
	last := batches[len(batches)-1]
	for off := int64(27); off < 30; off++ {
		pos, h, ok := s.tail.find(off, s.size.Load())
		if !ok || pos != 9*testBatchSize || h.base != 27 || h.next != 30 || h.size != testBatchSize {
			t.Fatalf("find(%d) = %d %+v %v", off, pos, h, ok)
		}
		got, err := l.Read(off, l.NextOffset(), 1, nil)
		if err != nil || !bytes.Equal(got, last) {
			t.Fatalf("Read(%d) = %d bytes, %v", off, len(got), err)
		}
	}
	for _, off := range []int64{26, 30} {
		if _, _, ok := s.tail.find(off, s.size.Load()); ok {
			t.Fatalf("find(%d) hit outside the last batch", off)
		}
	}
	// A reader that saw the size before the last batch was added.
	if _, _, ok := s.tail.find(27, 9*testBatchSize); ok {
		t.Fatal("find hit a batch past the reader's size")
	}
	if got := readAll(t, l, 0); !bytes.Equal(got, concat(batches)) {
		t.Fatal("read of the whole log")
	}

	if err := l.TruncateTo(27); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.tail.find(27, s.size.Load()+testBatchSize); ok {
		t.Fatal("the hint survived the truncation that cut its batch")
	}
	// The same offsets again, other bytes.
	b := makeBatch(27, 3, 99_000, testBatchSize-recordbatch.HeaderSize)
	if err := l.Append(b, t0); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(b, last) {
		t.Fatal("test batch equals the cut one")
	}
	got, err := l.Read(28, l.NextOffset(), 1, nil)
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("Read after re-append: %v", err)
	}
}

// Readers following the end of the log while it is appended to always
// read whole batches equal to what was appended (run with -race).
func TestTailHintConcurrent(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Config{IndexIntervalBytes: 1 << 20})
	const n = 1000
	var mu sync.Mutex
	appended := make(map[int64][]byte, n)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for off := int64(0); off < 3*n; {
				end := l.NextOffset()
				if off >= end {
					continue
				}
				got, err := l.Read(off, end, 1, nil)
				if err != nil {
					t.Errorf("Read(%d): %v", off, err)
					return
				}
				mu.Lock()
				want := appended[off]
				mu.Unlock()
				if !bytes.Equal(got, want) {
					t.Errorf("Read(%d): %d bytes, not the batch appended there", off, len(got))
					return
				}
				off += 3
			}
		}()
	}
	for i := range n {
		b := makeBatch(int64(3*i), 3, int64(1000*i), testBatchSize-recordbatch.HeaderSize)
		mu.Lock()
		appended[int64(3*i)] = b
		mu.Unlock()
		if err := l.Append(b, t0); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}
