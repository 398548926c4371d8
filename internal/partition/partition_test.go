package partition

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sluice/internal/commitlog"
	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// batch builds a valid one-record batch without a producer id.
func batch() recordbatch.Batch {
	return recordbatch.Build(nil, []recordbatch.Record{{Value: []byte("v")}}, time.Now().UnixMilli(), 0)
}

func open(t *testing.T, fsys vfs.FS, policy FsyncPolicy) *Partition {
	t.Helper()
	return openAt(t, fsys, 0, policy)
}

// openAt opens partition index of topic t in /data/t-<index>.
func openAt(t *testing.T, fsys vfs.FS, index int32, policy FsyncPolicy) *Partition {
	t.Helper()
	log, err := commitlog.Open(fsys, fmt.Sprintf("/data/t-%d", index), commitlog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(log, "t", index, Config{Fsync: policy, MaxMessageBytes: 1 << 20}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// Concurrent acks=all appends share fsyncs: while the first sync is held,
// 99 more appends arrive, and one more sync makes all of them durable.
func TestGroupCommit(t *testing.T) {
	var syncs atomic.Int32
	release := make(chan struct{})
	holding := make(chan struct{})
	armed := atomic.Bool{}
	fsys := vfs.NewErrorFS(vfs.NewMem(), func(op, name string) error {
		if op == vfs.OpSync && armed.Load() {
			if syncs.Add(1) == 1 {
				close(holding)
				<-release
			}
		}
		return nil
	})
	p := open(t, fsys, FsyncAlways)
	armed.Store(true)

	first, err := p.Append(batch())
	if err != nil {
		t.Fatal(err)
	}
	<-holding // the flusher is inside its first sync
	var wg sync.WaitGroup
	for i := 0; i < 99; i++ {
		res, err := p.Append(batch())
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.WaitDurable(context.Background(), res.NextOffset); err != nil {
				t.Error(err)
			}
		}()
	}
	if hw := p.HighWatermark(); hw != 0 {
		t.Fatalf("high watermark %d before any sync finished, want 0", hw)
	}
	close(release)
	if err := p.WaitDurable(context.Background(), first.NextOffset); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n := syncs.Load(); n != 2 {
		t.Fatalf("%d fsyncs for 100 appends, want 2 (one held, one shared by the other 99)", n)
	}
	if hw := p.HighWatermark(); hw != 100 {
		t.Fatalf("high watermark %d, want 100", hw)
	}
}

// Under fsync=never the high watermark moves with the append.
func TestHighWatermarkWithoutFsync(t *testing.T) {
	for _, policy := range []FsyncPolicy{FsyncNever, FsyncInterval} {
		p := open(t, vfs.NewMem(), policy)
		res, err := p.Append(batch())
		if err != nil || res.BaseOffset != 0 || res.NextOffset != 1 || p.HighWatermark() != 1 {
			t.Fatalf("%v: append %+v %v, hw %d", policy, res, err, p.HighWatermark())
		}
	}
}

// A failed fsync is sticky: waiters get the error and later appends fail.
func TestSyncFailureIsSticky(t *testing.T) {
	armed := atomic.Bool{}
	fsys := vfs.NewErrorFS(vfs.NewMem(), func(op, name string) error {
		if op == vfs.OpSync && armed.Load() {
			return errDisk
		}
		return nil
	})
	p := open(t, fsys, FsyncAlways)
	armed.Store(true)
	res, err := p.Append(batch())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitDurable(context.Background(), res.NextOffset); err == nil {
		t.Fatal("durable wait succeeded although fsync failed")
	}
	armed.Store(false)
	if _, err := p.Append(batch()); err == nil {
		t.Fatal("append after a failed fsync succeeded")
	}
	if hw := p.HighWatermark(); hw != 0 {
		t.Fatalf("high watermark %d after a failed fsync, want 0", hw)
	}
}

type diskErr struct{}

func (diskErr) Error() string { return "injected disk error" }

var errDisk = diskErr{}
