package commitlog

import (
	"errors"
	"fmt"
	"io/fs"

	"sluice/internal/recordbatch"
)

// ErrStaleEpoch: BeginEpoch was given an epoch at or below one already begun.
var ErrStaleEpoch = errors.New("commitlog: leader epoch already begun")

// BeginEpoch makes epoch the log's leader epoch from the log end on: when
// it returns nil, the entry (epoch, NextOffset) is durable, so a batch
// stamped with epoch can never be on disk without it. A leader calls it
// before its first append (Kafka assigns the epoch's start offset when a
// replica becomes leader, KIP-279). epoch must be above HighestEpoch.
func (l *Log) BeginEpoch(epoch int32) error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.stickyErr(); err != nil {
		return err
	}
	if l.active == nil {
		return ErrClosed
	}
	if highest := l.epochs.Highest(); epoch <= highest {
		return fmt.Errorf("%w: %d, highest %d", ErrStaleEpoch, epoch, highest)
	}
	l.epochs.assign(EpochEntry{Epoch: epoch, StartOffset: l.next.Load()})
	return l.writeEpochCheckpoint()
}

// noteBatchEpochLocked records the epoch of a batch about to be appended
// when the cache has no entry for it yet (a batch stamped by a leader of
// a newer epoch than the latest entry), durably before the batch is
// written. A leader that called BeginEpoch never gets here: the check is
// one comparison on the append path. Requires appendMu.
func (l *Log) noteBatchEpochLocked(h header) error {
	if h.epoch <= l.epochs.latest.Load() {
		return nil
	}
	l.epochs.assign(EpochEntry{Epoch: h.epoch, StartOffset: h.base})
	return l.writeEpochCheckpoint()
}

// HighestEpoch returns the largest leader epoch ever begun on the log,
// NoEpoch for none: the next leader must take a larger one.
func (l *Log) HighestEpoch() int32 { return l.epochs.Highest() }

// EpochEndOffset answers OffsetForLeaderEpoch (KIP-101): the end of epoch
// (the log end offset for the latest epoch, else the start of the next
// known epoch) and the epoch that actually wrote up to there; NoEpoch and
// NoOffset when the log knows no such epoch. See epochCache.endOffsetFor.
func (l *Log) EpochEndOffset(epoch int32) (int32, int64) {
	return l.epochs.endOffsetFor(epoch, l.next.Load())
}

// EpochForOffset returns the leader epoch that wrote offset.
func (l *Log) EpochForOffset(offset int64) (int32, bool) { return l.epochs.epochForOffset(offset) }

// Epochs returns the highest epoch begun and the cache's entries.
func (l *Log) Epochs() (int32, []EpochEntry) { return l.epochs.snapshot() }

// setStartLocked moves the log start offset and folds the epoch entries
// below it. The checkpoint is not rewritten for this: a checkpoint with
// entries below the start is folded the same way when it is read, so
// writing it now would buy nothing. Requires l.mu.
func (l *Log) setStartLocked(offset int64) {
	l.start.Store(offset)
	l.epochs.truncateFromStart(offset)
}

// loadEpochs reads the checkpoint once recovery has settled the log's
// extent and fits it to the log: entries at or past the end are dropped,
// entries below the start are folded. An entry starting exactly at the
// end is the usual case, an epoch that wrote nothing before the stop; one
// starting past it began in bytes recovery cut, and the file is rewritten
// so that it never describes batches the log does not hold. Folding is
// not written back: the next open folds the same way.
//
// A missing or damaged checkpoint is rebuilt from the epochs stamped in
// the batches, which is what the entries are derived from; only epochs
// begun without writing anything are lost with it.
func (l *Log) loadEpochs() error {
	end := l.next.Load()
	highest, entries, err := l.readEpochCheckpoint()
	if errors.Is(err, fs.ErrNotExist) && end == l.start.Load() {
		return nil // a new (or empty) log: nothing to rebuild from
	}
	rebuilt := err != nil
	switch {
	case errors.Is(err, fs.ErrNotExist):
		l.logger.Info("commitlog: no leader-epoch checkpoint; rebuilding it from the log", "dir", l.dir)
	case err != nil:
		l.logger.Warn("commitlog: leader-epoch checkpoint unreadable; rebuilding it from the log", "dir", l.dir, "err", err.Error())
	}
	if rebuilt {
		if highest, entries, err = l.rebuildEpochs(); err != nil {
			return err
		}
	}
	cut := len(entries) > 0 && entries[len(entries)-1].StartOffset > end
	l.epochs.reset(highest, entries)
	l.epochs.truncateFromEnd(end)
	l.epochs.truncateFromStart(l.start.Load())
	if cut {
		l.logger.Info("commitlog: dropped leader-epoch entries of batches recovery cut", "dir", l.dir, "endOffset", end)
	}
	if rebuilt || cut {
		return l.writeEpochCheckpoint()
	}
	return nil
}

// rebuildEpochs derives the epoch entries from the batches' leader epoch
// fields. Epochs never decrease along the log, so a segment whose first
// batch has the same epoch as the next segment's first batch holds only
// that epoch and is not walked: a log written under one epoch costs one
// header read per segment plus a walk of the last.
func (l *Log) rebuildEpochs() (int32, []EpochEntry, error) {
	c := newEpochCache()
	hdr := make([]byte, recordbatch.HeaderSize)
	for i, s := range l.segs {
		first, ok, err := s.headerAt(0, hdr)
		if err != nil || !ok {
			if err != nil {
				return 0, nil, err
			}
			continue
		}
		if i+1 < len(l.segs) {
			next, ok, err := l.segs[i+1].headerAt(0, hdr)
			if err != nil {
				return 0, nil, err
			}
			if ok && next.epoch == first.epoch {
				noteEpoch(c, first)
				continue
			}
		}
		if err := s.eachHeader(hdr, func(h header) { noteEpoch(c, h) }); err != nil {
			return 0, nil, err
		}
	}
	highest, entries := c.snapshot()
	return highest, entries, nil
}

// noteEpoch adds a batch's epoch to c when it is newer than c's latest.
// A batch without an epoch (-1) says nothing.
func noteEpoch(c *epochCache, h header) {
	if h.epoch >= 0 && h.epoch > c.latest.Load() {
		c.assign(EpochEntry{Epoch: h.epoch, StartOffset: h.base})
	}
}

// headerAt reads the header of the batch at pos; ok is false at the end
// of the segment.
func (s *segment) headerAt(pos int64, hdr []byte) (header, bool, error) {
	if pos+recordbatch.HeaderSize > s.size.Load() {
		return header{}, false, nil
	}
	if err := readFull(s.file, hdr, pos); err != nil {
		return header{}, false, fmt.Errorf("commitlog: reading %s: %w", s.name, err)
	}
	return parseHeader(hdr), true, nil
}

// eachHeader calls fn with the header of every batch of the segment, in
// order. The segment has been validated by recovery.
func (s *segment) eachHeader(hdr []byte, fn func(header)) error {
	for pos := int64(0); ; {
		h, ok, err := s.headerAt(pos, hdr)
		if err != nil || !ok {
			return err
		}
		fn(h)
		pos += h.size
	}
}
