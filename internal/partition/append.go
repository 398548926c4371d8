package partition

import (
	"context"
	"errors"
	"time"

	"sluice/internal/recordbatch"
)

// ErrTooLarge is returned for a batch over max.message.bytes.
var ErrTooLarge = errors.New("partition: batch exceeds max.message.bytes")

// AppendResult says where a batch landed.
type AppendResult struct {
	BaseOffset    int64
	NextOffset    int64 // the HW a durable wait needs
	LogAppendTime int64 // -1 unless the topic uses LogAppendTime
	Duplicate     bool  // a retried idempotent batch: nothing was appended
}

// Append stores one validated batch (see the package comment for the
// ordering): b comes from recordbatch.Validate, Frame or a Build, since
// its CRC is not computed again (commitlog.Log.AppendVerified). b is
// modified in place (base offset, leader epoch, append time) and not
// retained after Append returns. A batch with a producer id
// goes through the producer's sequence checks first; a retry of one of its
// last five batches is answered with the original offsets (and waits, like
// the original, for them to be durable).
func (p *Partition) Append(b recordbatch.Batch) (AppendResult, error) {
	return p.published(p.appendBatch(b, false))
}

// AppendAwaited is Append for a caller that will wait for the batch with
// MakeDurable, which runs the sync itself: no flusher is woken. A caller
// that ends up not waiting must call Flush.
func (p *Partition) AppendAwaited(b recordbatch.Batch) (AppendResult, error) {
	return p.awaited(p.appendBatch(b, false))
}

// AppendAwaitedAlone is AppendAwaited for a batch whose durable wait
// covers no other partition (a produce request for this partition
// alone): with a journal it counts as large, since a sync it does not
// share gains nothing from the journal (journal.go).
func (p *Partition) AppendAwaitedAlone(b recordbatch.Batch) (AppendResult, error) {
	return p.awaited(p.appendBatch(b, true))
}

func (p *Partition) awaited(res AppendResult, err error) (AppendResult, error) {
	if err == nil && p.fsync != FsyncAlways {
		p.advanceHW(res.NextOffset)
	}
	return res, err
}

// Flush asks the flusher to make every append so far durable, for
// appends whose waiter went away.
func (p *Partition) Flush() {
	if p.fsync == FsyncAlways {
		p.requestFlush()
	}
}

// AppendDeferred appends a batch that nobody waits for: under
// fsync=always it becomes durable with the partition's next sync, started
// by a later append or by Close, instead of costing a sync of its own. A
// crash may take it; it is for records whose loss recovery repairs (the
// transaction coordinator's Complete records, which a restart writes
// again from the Prepare record before them).
func (p *Partition) AppendDeferred(b recordbatch.Batch) (AppendResult, error) {
	res, err := p.appendBatch(b, false)
	if err == nil && p.fsync != FsyncAlways {
		p.advanceHW(res.NextOffset)
	}
	return res, err
}

// published starts making an appended batch durable, or, under the
// policies that do not wait for fsync, makes it readable at once.
func (p *Partition) published(res AppendResult, err error) (AppendResult, error) {
	if err != nil {
		return res, err
	}
	if p.fsync == FsyncAlways {
		p.requestFlush()
	} else {
		p.advanceHW(res.NextOffset)
	}
	return res, nil
}

// appendBatch appends b; alone says its durable wait covers no other
// partition (AppendAwaitedAlone).
func (p *Partition) appendBatch(b recordbatch.Batch, alone bool) (AppendResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	res := AppendResult{LogAppendTime: -1}
	if err := p.Err(); err != nil {
		return res, err
	}
	if p.cfg.MaxMessageBytes > 0 && int64(len(b)) > int64(p.cfg.MaxMessageBytes) {
		return res, ErrTooLarge
	}
	idempotent := b.ProducerID() >= 0
	if idempotent {
		if dup, ok, err := p.checkProducerLocked(b); err != nil || ok {
			return dup, err
		}
	}
	now := p.clock()
	if p.cfg.LogAppendTime {
		res.LogAppendTime = now.UnixMilli()
		b.SetLogAppendTime(res.LogAppendTime)
	}
	base, err := p.writeAloneLocked(b, now, alone)
	if err != nil {
		return res, err
	}
	res.BaseOffset, res.NextOffset = base, b.NextOffset()
	if idempotent {
		p.producers.Apply(producerBatch(b)) // after the append: state follows the log
		if b.IsTransactional() {
			p.trackTxnLocked(nil)
		}
	}
	return res, nil
}

// writeLocked writes b at the log end: the one place a batch gets its
// base offset and the leader epoch (see epoch.go), whoever built it (a
// producer, the broker's markers and internal records). A failure is
// made sticky. Requires p.mu, which BeginLeaderEpoch also holds, so no
// batch is stamped with an epoch that is not yet durable.
func (p *Partition) writeLocked(b recordbatch.Batch, now time.Time) (int64, error) {
	return p.writeAloneLocked(b, now, false)
}

// writeAloneLocked is writeLocked for a batch whose durable wait, when
// alone, covers no other partition.
func (p *Partition) writeAloneLocked(b recordbatch.Batch, now time.Time, alone bool) (int64, error) {
	base := p.log.NextOffset()
	b.SetBaseOffset(base)
	b.SetLeaderEpoch(p.epoch.Load())
	// Every batch reaching here was checked (Validate, Frame) or built
	// (Build) with its CRC, and only fields outside the CRC changed since,
	// or SetLogAppendTime, which computes it again.
	if err := p.log.AppendVerified(b, now); err != nil {
		p.fail(err)
		return base, err
	}
	if p.journal != nil {
		if err := p.journalOrSegmentLocked(b, alone); err != nil {
			p.fail(err)
			return base, err
		}
	}
	p.snapshotOnRollLocked(base)
	return base, nil
}

// snapshotOnRollLocked writes the producer state when the append of the
// batch at base has just started a new segment, so that a restart after a
// crash replays at most about one segment. It runs before the batch is
// applied to the state: the snapshot is as of base, the new segment's
// first offset, and covers only the segments before it, which the roll
// synced together with their aborted-transaction indexes. (A snapshot
// past what was synced could survive a power loss that kept an abort
// marker's bytes and lost its index entry: the next start would trust the
// snapshot, not replay the marker, and serve the aborted records to
// read_committed consumers.) Requires p.mu.
func (p *Partition) snapshotOnRollLocked(base int64) {
	n := p.log.Segments()
	if n == p.segments {
		return
	}
	p.segments = n
	if p.cfg.FS == nil || p.producers.Len() == 0 {
		return
	}
	if err := p.writeProducerSnapshotLocked(p.cfg.FS, base); err != nil {
		p.logger.Warn("partition: producer snapshot at roll failed", "topic", p.Topic, "partition", p.Index, "err", err)
	}
}

// WaitDurable blocks until the HW reaches next (the batch is durable under
// the fsync policy), the partition fails, or ctx ends; under
// fsync=always it runs the sync itself when none covering the batch is
// running (MakeDurable).
func (p *Partition) WaitDurable(ctx context.Context, next int64) error {
	d := []Durable{{P: p, Next: next}}
	MakeDurable(ctx, d)
	return d[0].Err
}

// Watch registers ch (buffered, capacity >= 1) to be signalled, without
// blocking, whenever the HW moves or the partition fails or closes.
func (p *Partition) Watch(ch chan<- struct{}) {
	p.hwMu.Lock()
	p.watchers[ch] = struct{}{}
	p.hwMu.Unlock()
}

// Unwatch removes ch from the watchers.
func (p *Partition) Unwatch(ch chan<- struct{}) {
	p.hwMu.Lock()
	delete(p.watchers, ch)
	p.hwMu.Unlock()
}

func (p *Partition) advanceHW(to int64) {
	p.hwMu.Lock()
	defer p.hwMu.Unlock()
	if to <= p.hw {
		return
	}
	p.hw = to
	p.pruneDecidedLocked()
	p.notifyLocked()
}

// fail records the first storage error; every later append refuses with it.
func (p *Partition) fail(err error) {
	p.hwMu.Lock()
	defer p.hwMu.Unlock()
	if p.err == nil {
		p.err = err
		p.logger.Error("partition: storage failed; refusing further appends", "topic", p.Topic, "partition", p.Index, "err", err)
	}
	p.notifyLocked()
}

// notifyLocked wakes every watcher. Requires p.hwMu.
func (p *Partition) notifyLocked() {
	for ch := range p.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (p *Partition) requestFlush() {
	select {
	case p.flushReq <- struct{}{}:
	default: // a sync is already pending and will cover this append
	}
}

// flusher syncs for the appends nobody waits for under fsync=always
// (through the flush cycle, so it shares syncs with the waiters), and
// every interval under fsync=interval.
func (p *Partition) flusher() {
	defer close(p.flushDone)
	ticker := time.NewTicker(p.fsyncInterval)
	defer ticker.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.flushReq:
			p.WaitDurable(context.Background(), p.log.NextOffset())
		case <-ticker.C:
			if p.fsync == FsyncInterval {
				p.sync()
			}
		}
	}
}

// sync syncs the log whatever the policy and moves the HW to what it
// covered: fsync=interval's periodic sync (its HW moved already).
func (p *Partition) sync() {
	if p.Err() != nil {
		return
	}
	leo := p.log.NextOffset()
	if err := p.log.Sync(); err != nil {
		p.fail(err)
		return
	}
	p.advanceHW(leo)
}

// Close stops the flusher, syncs and closes the log. Waiters are released
// with ErrClosed.
func (p *Partition) Close() error {
	p.hwMu.Lock()
	if p.closed {
		p.hwMu.Unlock()
		return nil
	}
	p.closed = true
	p.notifyLocked()
	p.hwMu.Unlock()
	close(p.stop)
	<-p.flushDone
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg.FS != nil && p.Err() == nil {
		if err := p.log.Sync(); err == nil {
			if err := p.writeProducerSnapshotLocked(p.cfg.FS, p.log.NextOffset()); err != nil {
				p.logger.Warn("partition: producer snapshot not written; the next start replays the log", "err", err)
			}
		}
	}
	return p.log.Close()
}
