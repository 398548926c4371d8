package partition

import (
	"context"
	"errors"
	"sync"

	"sluice/internal/commitlog"
)

// The flush cycle of fsync=always. Whoever needs appends durable runs the
// sync itself, if no sync of that partition is running: an acks=all
// request that arrives to an idle broker is answered by the goroutine
// that waits for it, after one write and one fsync, with no hand-off to a
// flusher. If a sync is running, it waits for that one and looks again
// (the sync may have started before its append): concurrent appends still
// share fsyncs (group commit). The flusher goroutine syncs only for
// appends nobody waits for (acks=0/1, deferred records).
//
// A produce request that wrote several partitions makes them durable in
// one cycle: their logs are synced in parallel and their high watermarks
// move together once every sync is done, with one wake-up per watcher,
// so a long-polling consumer is answered once with all of them rather
// than once per partition.

// maxParallelSyncs bounds the fsyncs one cycle runs at once: each blocks
// an OS thread, and a handful in flight keep a disk's queue busy.
const maxParallelSyncs = 8

// Durable is a partition that must be durable up to Next; MakeDurable
// sets Err for it.
type Durable struct {
	P    *Partition
	Next int64
	Err  error
}

// syncSlot lets one sync of a partition run at a time. Guarded by hwMu.
type syncSlot struct {
	running bool
	done    chan struct{} // closed when the running sync ends
}

// claim takes the partition's sync slot and returns the log end offset a
// sync started now covers; if another sync runs, it returns that sync's
// done channel instead.
func (p *Partition) claim() (leo int64, busy <-chan struct{}) {
	p.hwMu.Lock()
	defer p.hwMu.Unlock()
	if p.slot.running {
		return 0, p.slot.done
	}
	p.slot.running, p.slot.done = true, make(chan struct{})
	// Read after the slot is ours: every append that returned before the
	// claim is below it.
	return p.log.NextOffset(), nil
}

// syncClaimed runs the claimed sync; the high watermark does not move yet.
func (p *Partition) syncClaimed() error {
	if err := p.Err(); err != nil {
		return err
	}
	if err := p.log.Sync(); err != nil {
		if errors.Is(err, commitlog.ErrClosed) {
			return ErrClosed // closed under us: Close synced it, nothing failed
		}
		p.fail(err)
		return err
	}
	return nil
}

// release publishes a claimed sync's outcome (the high watermark moves to
// leo if it succeeded) without waking anyone yet, and frees the slot.
func (p *Partition) release(leo int64, err error) {
	p.hwMu.Lock()
	defer p.hwMu.Unlock()
	if err == nil {
		p.segmentSyncedLocked(leo)
	}
	if err == nil && leo > p.hw {
		p.hw = leo
		p.pruneDecidedLocked()
	}
	p.slot.running = false
	close(p.slot.done)
}

// notify wakes every watcher of the partition.
func (p *Partition) notify() {
	p.hwMu.Lock()
	defer p.hwMu.Unlock()
	p.notifyLocked()
}

// state is what decides whether a durable wait is over.
func (p *Partition) state(next int64) (done bool, err error) {
	p.hwMu.Lock()
	defer p.hwMu.Unlock()
	switch {
	case p.hw >= next:
		return true, nil
	case p.err != nil:
		return true, p.err
	case p.closed:
		return true, ErrClosed
	}
	return false, nil
}

// MakeDurable returns when every d.P is durable up to d.Next (d.Err nil),
// failed (its sticky error), closed (ErrClosed), or ctx ended (ctx's
// error for those not done). It syncs what no running sync covers,
// sharing one flush cycle among the partitions (see the top of this
// file). Under fsync=interval and never the high watermark is already at
// the log end, so it returns at once.
func MakeDurable(ctx context.Context, ds []Durable) {
	pending := make([]int, 0, len(ds))
	var journaled []int
	for i := range ds {
		if ds[i].P.journal != nil && ds[i].P.journalCovers(ds[i].Next) {
			journaled = append(journaled, i)
		} else {
			pending = append(pending, i)
		}
	}
	if journaled != nil {
		pending = append(pending, makeJournaledDurable(ds, journaled)...)
	}
	for len(pending) > 0 {
		var claims []claimed
		var busy []<-chan struct{}
		left := pending[:0]
		for _, i := range pending {
			d := &ds[i]
			if done, err := d.P.state(d.Next); done {
				d.Err = err
				continue
			}
			left = append(left, i)
			if claimedBy(claims, d.P) {
				continue // the same partition twice: one sync covers both
			}
			if leo, ch := d.P.claim(); ch != nil {
				busy = append(busy, ch)
			} else {
				claims = append(claims, claimed{p: d.P, leo: leo})
			}
		}
		pending = left
		runCycle(claims)
		for _, ch := range busy {
			select {
			case <-ch:
			case <-ctx.Done():
				giveUp(ctx, ds, pending)
				return
			}
		}
	}
}

// giveUp ends the waits still pending when ctx ends. Their appends may
// not be covered by the sync they were waiting behind, so the flushers
// take them over: they become durable and readable all the same.
func giveUp(ctx context.Context, ds []Durable, pending []int) {
	for _, i := range pending {
		d := &ds[i]
		if done, err := d.P.state(d.Next); done {
			d.Err = err
			continue
		}
		d.Err = ctx.Err()
		d.P.Flush()
	}
}

// claimed is a sync slot taken by a cycle.
type claimed struct {
	p   *Partition
	leo int64
	err error
}

func claimedBy(cs []claimed, p *Partition) bool {
	for _, c := range cs {
		if c.p == p {
			return true
		}
	}
	return false
}

// runCycle syncs the claimed partitions, in parallel when there are
// several, then moves all their high watermarks and only then wakes
// their watchers.
func runCycle(cs []claimed) {
	if len(cs) == 0 {
		return
	}
	if len(cs) == 1 {
		cs[0].err = cs[0].p.syncClaimed()
	} else {
		syncParallel(cs)
	}
	for i := range cs {
		cs[i].p.release(cs[i].leo, cs[i].err)
	}
	for _, c := range cs {
		c.p.notify()
	}
}

// syncParallel runs the syncs on up to maxParallelSyncs goroutines, this
// one included.
func syncParallel(cs []claimed) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	work := func() {
		for {
			mu.Lock()
			i := next
			next++
			mu.Unlock()
			if i >= len(cs) {
				return
			}
			cs[i].err = cs[i].p.syncClaimed()
		}
	}
	for range min(len(cs), maxParallelSyncs) - 1 {
		wg.Add(1)
		go func() { defer wg.Done(); work() }()
	}
	work()
	wg.Wait()
}
