package partition

import (
	"errors"
	"fmt"

	"sluice/internal/commitlog"
	"sluice/internal/journal"
	"sluice/internal/recordbatch"
)

// With a journal (fsync=always and Config.Journal), every batch the
// partition writes to its segment is also appended to the journal, the
// log the broker's partitions share, under p.mu right after the segment
// write; jleo and jpos record how far the partition's appends reach in
// both. A durable wait then syncs the journal up to jpos, not the
// segment, and moves the HW to jleo: one fsync covers every partition a
// flush cycle touched. The segments are synced by the journal's
// checkpoints (SyncSegments) and at Close; after a crash the start gives
// Open the journal's batches for the partition (Config.Replay), and it
// appends again those past the recovered log end.

// Journal is the shared log a partition appends to (journal.Journal).
type Journal interface {
	Append(k journal.Key, batch []byte) (int64, error)
	Sync(pos int64) error
}

// journalLocked appends b, just written to the segment, to the journal.
// Requires p.mu.
func (p *Partition) journalLocked(b recordbatch.Batch) error {
	pos, err := p.journal.Append(p.journalKey, b)
	if err != nil {
		return err
	}
	p.hwMu.Lock()
	p.jleo, p.jpos = b.NextOffset(), pos
	p.hwMu.Unlock()
	return nil
}

// journalMark returns the log end offset after the last append and the
// journal position a sync must reach to cover it.
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

// makeJournaledDurable is MakeDurable for the partitions of ds (at
// indexes idx) that have a journal: the journal is synced up to each
// partition's last append (the first Sync writes everything appended, so
// the others return at once), then their HWs move together and their
// watchers are woken once. The journal's sync is not bounded by a
// context: it is an fsync, which a context could not stop either.
func makeJournaledDurable(ds []Durable, idx []int) {
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
		_, ds[i].Err = ds[i].P.state(ds[i].Next)
	}
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
