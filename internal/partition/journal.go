package partition

import (
	"errors"
	"fmt"

	"sluice/internal/commitlog"
	"sluice/internal/journal"
	"sluice/internal/recordbatch"
)

// With a journal (fsync=always and Config.Journal), a batch the
// partition writes to its segment may also be appended to the journal,
// the log the broker's partitions share, under p.mu right after the
// segment write; jleo and jpos record how far the journaled appends
// reach in both. A durable wait for journaled batches syncs the journal
// up to jpos, not the segment, and moves the HW to jleo: one fsync covers
// every partition a flush cycle touched. The segments are synced by the
// journal's checkpoints (SyncSegments) and at Close; after a crash the
// start gives Open the journal's batches for the partition
// (Config.Replay), and it appends again those past the recovered log end.
//
// Only small batches of requests that write several partitions go
// through the journal. The journal saves fsyncs, each of which costs
// about the same whatever it writes up to some tens of KiB, and costs a
// second write of every byte: on the disks measured it pays for batches
// of a few KiB to tens of KiB on many partitions, and loses for batches
// of hundreds of KiB, which one fsync of their own already serves well,
// and for a request to one partition, whose fsync it would not share
// (docs/benchmarks.md). So a partition journals while its batches average
// under Config.JournalBelow, a batch appended alone counting as large (a
// running average, so that it does not switch at every batch), and
// otherwise writes batches to its segment alone, whose durable waits sync
// the segment as without a journal (MakeDurable).
//
// The two kinds never interleave unsafely. A journaled batch is appended
// to the journal only once every batch before it is durable (journaled,
// or in a synced segment): when a partition goes back to journaling, it
// syncs its segment first. So whatever a crash leaves, the journal's
// batches for a partition continue its recovered log with no gap, and
// Open's replay refuses a gap as before: the batches missing are in
// neither, which no crash can cause.

// DefaultJournalBelow is Config.JournalBelow's default: batches of 64 KiB
// and more (on average) skip the journal.
const DefaultJournalBelow = 64 << 10

// Journal is the shared log a partition appends to (journal.Journal).
type Journal interface {
	Append(k journal.Key, batch []byte) (int64, error)
	Sync(pos int64) error
}

// journalOrSegmentLocked, with a journal, appends b (just written to the
// segment) to the journal or records it as written to the segment alone.
// Requires p.mu.
func (p *Partition) journalOrSegmentLocked(b recordbatch.Batch, alone bool) error {
	if !p.journalNextLocked(len(b), alone) {
		p.hwMu.Lock()
		if p.segFrom < 0 {
			p.segFrom = b.BaseOffset()
		}
		p.segLast = b.NextOffset()
		p.hwMu.Unlock()
		return nil
	}
	p.hwMu.Lock()
	barrier := p.segFrom >= 0
	p.hwMu.Unlock()
	if barrier {
		// Batches written to the segment alone come before b: they must
		// be durable before b's journal record can be (see the top of
		// this file). The sync covers b's own bytes too, harmlessly.
		if err := p.log.Sync(); err != nil {
			return err
		}
	}
	pos, err := p.journal.Append(p.journalKey, b)
	if err != nil {
		return err
	}
	p.hwMu.Lock()
	// In one step with jleo: a wait that sees no batch of the segment
	// alone pending sees the journal mark past them.
	p.segFrom, p.segLast = -1, -1
	p.jleo, p.jpos = b.NextOffset(), pos
	p.hwMu.Unlock()
	return nil
}

// journalNextLocked folds a batch of n bytes into the running average
// and reports whether it goes through the journal: below the threshold
// it does; the partition stops journaling only once the average passes
// twice the threshold, so that batch sizes near it do not make it switch,
// and each switch back costs a segment sync. A batch appended alone
// counts as four times the threshold, whatever its size. Requires p.mu.
func (p *Partition) journalNextLocked(n int, alone bool) bool {
	below := int64(p.cfg.JournalBelow)
	if below < 0 {
		return true
	}
	if below == 0 {
		below = DefaultJournalBelow
	}
	if alone {
		n = int(4 * below)
	}
	if p.avgBatch == 0 {
		p.avgBatch = int64(n)
	} else {
		p.avgBatch += (int64(n) - p.avgBatch) / 8
	}
	switch {
	case p.journaling && p.avgBatch >= 2*below:
		p.journaling = false
	case !p.journaling && p.avgBatch < below:
		p.journaling = true
	}
	return p.journaling
}

// journalCovers reports whether a wait for the batches below next is one
// for journaled batches only: no batch written to the segment alone that
// may not be durable lies below next.
func (p *Partition) journalCovers(next int64) bool {
	p.hwMu.Lock()
	defer p.hwMu.Unlock()
	return p.segFrom < 0 || next <= p.segFrom
}

// segmentSynced notes that a sync of the segment covered the log up to
// leo. Requires hwMu.
func (p *Partition) segmentSyncedLocked(leo int64) {
	switch {
	case p.segFrom < 0 || p.segFrom >= leo:
	case p.segLast <= leo:
		p.segFrom, p.segLast = -1, -1
	default:
		// Batches of the segment alone were appended after the sync
		// began; the first of them starts at leo or later.
		p.segFrom = leo
	}
}

// journalMark returns the log end offset after the last journaled append
// and the journal position a sync must reach to cover it.
func (p *Partition) journalMark() (leo, pos int64) {
	p.hwMu.Lock()
	defer p.hwMu.Unlock()
	return p.jleo, p.jpos
}

// raiseHW moves the HW up to leo without waking anyone.
func (p *Partition) raiseHW(leo int64) {
	p.hwMu.Lock()
	defer p.hwMu.Unlock()
	if leo > p.hw {
		p.hw = leo
		p.pruneDecidedLocked()
	}
}

// makeJournaledDurable is MakeDurable for the waits of ds (at indexes
// idx) on journaled batches: the journal is synced up to each partition's
// last journaled append (the first Sync writes everything appended, so
// the others return at once), then their HWs move together and their
// watchers are woken once. It returns the waits still not over, which a
// batch written to the segment alone since the choice holds up: they
// take the segment's way. The journal's sync is not bounded by a
// context: it is an fsync, which a context could not stop either.
func makeJournaledDurable(ds []Durable, idx []int) (left []int) {
	var moved []int
	for _, i := range idx {
		d := &ds[i]
		if done, err := d.P.state(d.Next); done {
			d.Err = err
			continue
		}
		leo, pos := d.P.journalMark()
		if err := d.P.journal.Sync(pos); err != nil {
			d.P.fail(err)
		} else {
			d.P.raiseHW(leo)
		}
		moved = append(moved, i)
	}
	for _, i := range moved {
		ds[i].P.notify()
		done, err := ds[i].P.state(ds[i].Next)
		if !done {
			left = append(left, i)
			continue
		}
		ds[i].Err = err
	}
	return left
}

// SyncSegments makes the partition's segments durable: a journal
// checkpoint's work before the journal's files that hold its batches are
// deleted. A closed partition synced itself at Close.
func (p *Partition) SyncSegments() error {
	if err := p.log.Sync(); err != nil && !errors.Is(err, commitlog.ErrClosed) {
		p.fail(err)
		return err
	}
	return nil
}

// replayJournal appends again, at Open, the journal's batches the
// recovered log lacks: a crash took them from the segment, not from the
// journal, whose sync acknowledged them. Batches the log holds are
// skipped; one that would leave a gap is refused, since the batches
// before it are gone from both (a checkpoint deleted the journal file
// holding them after syncing the segment, so the disk lost synced data).
func (p *Partition) replayJournal(entries []journal.Entry) error {
	var replayed, skipped int
	for _, e := range entries {
		b, err := recordbatch.Frame(e.Batch)
		if err != nil || len(b) != len(e.Batch) {
			return fmt.Errorf("partition %s-%d: journal %s at byte %d: not one whole batch (%v); nothing was changed", p.Topic, p.Index, e.File, e.Pos, err)
		}
		leo := p.log.NextOffset()
		switch {
		case b.NextOffset() <= leo:
			skipped++
			continue
		case b.BaseOffset() != leo:
			return fmt.Errorf("partition %s-%d: journal %s at byte %d holds offsets [%d, %d), but the log ends at %d: the batches between are in neither; refusing to start",
				p.Topic, p.Index, e.File, e.Pos, b.BaseOffset(), b.NextOffset(), leo)
		}
		if err := p.log.Append(b, p.clock()); err != nil {
			return fmt.Errorf("partition %s-%d: replaying journal %s at byte %d: %w", p.Topic, p.Index, e.File, e.Pos, err)
		}
		if b.ProducerID() >= 0 {
			p.replayBatch(b)
		}
		replayed++
	}
	if replayed > 0 {
		p.logger.Info("partition: appended again from the journal what a crash took from the log", "topic", p.Topic, "partition", p.Index,
			"batches", replayed, "alreadyInLog", skipped, "logEndOffset", p.log.NextOffset())
	}
	return nil
}
