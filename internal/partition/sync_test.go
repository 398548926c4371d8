package partition

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sluice/internal/vfs"
)

// An append made for a waiter is synced by the waiter itself: nothing
// syncs it before MakeDurable, which then takes one fsync.
func TestMakeDurableSyncsInline(t *testing.T) {
	var syncs atomic.Int32
	armed := atomic.Bool{}
	fsys := vfs.NewErrorFS(vfs.NewMem(), func(op, name string) error {
		if op == vfs.OpSync && armed.Load() {
			syncs.Add(1)
		}
		return nil
	})
	p := openAt(t, fsys, 0, FsyncAlways)
	armed.Store(true)
	res, err := p.AppendAwaited(batch())
	if err != nil {
		t.Fatal(err)
	}
	if hw, n := p.HighWatermark(), syncs.Load(); hw != 0 || n != 0 {
		t.Fatalf("before MakeDurable: high watermark %d, %d fsyncs; want 0, 0", hw, n)
	}
	d := []Durable{{P: p, Next: res.NextOffset}}
	MakeDurable(context.Background(), d)
	if d[0].Err != nil || p.HighWatermark() != 1 || syncs.Load() != 1 {
		t.Fatalf("after MakeDurable: err %v, high watermark %d, %d fsyncs; want nil, 1, 1", d[0].Err, p.HighWatermark(), syncs.Load())
	}
}

// The partitions of one flush cycle become readable together: while one
// partition's sync is held, the other's high watermark does not move,
// though its sync is done.
func TestCycleMovesHighWatermarksTogether(t *testing.T) {
	holding, release := make(chan struct{}), make(chan struct{})
	armed := atomic.Bool{}
	var once sync.Once
	fsys := vfs.NewErrorFS(vfs.NewMem(), func(op, name string) error {
		if op == vfs.OpSync && armed.Load() && strings.HasPrefix(name, "/data/t-0/") {
			once.Do(func() { close(holding); <-release })
		}
		return nil
	})
	a, b := openAt(t, fsys, 0, FsyncAlways), openAt(t, fsys, 1, FsyncAlways)
	armed.Store(true)
	ra, err := a.AppendAwaited(batch())
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.AppendAwaited(batch())
	if err != nil {
		t.Fatal(err)
	}
	ds := []Durable{{P: a, Next: ra.NextOffset}, {P: b, Next: rb.NextOffset}}
	done := make(chan struct{})
	go func() { MakeDurable(context.Background(), ds); close(done) }()
	<-holding
	if hw := b.HighWatermark(); hw != 0 {
		t.Fatalf("partition 1's high watermark moved to %d while partition 0's sync was held", hw)
	}
	close(release)
	<-done
	if ds[0].Err != nil || ds[1].Err != nil || a.HighWatermark() != 1 || b.HighWatermark() != 1 {
		t.Fatalf("errs %v %v, high watermarks %d %d; want nil, nil, 1, 1", ds[0].Err, ds[1].Err, a.HighWatermark(), b.HighWatermark())
	}
}

// Appends whose waiter went away are made durable by the flusher when
// asked (Flush), so they still become readable.
func TestFlushAfterAbandonedWait(t *testing.T) {
	p := openAt(t, vfs.NewMem(), 0, FsyncAlways)
	if _, err := p.AppendAwaited(batch()); err != nil {
		t.Fatal(err)
	}
	p.Flush()
	for deadline := time.Now().Add(10 * time.Second); p.HighWatermark() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the flusher did not make the abandoned append durable")
		}
	}
}
