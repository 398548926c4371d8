package commitlog

import (
	"fmt"
	"path/filepath"
)

// The log start offset (KIP-107): the first offset a reader may ask for.
// Retention and DeleteBefore move it to the base of the first segment they
// keep; AdvanceStart (DeleteRecords) moves it to any offset up to the log
// end, possibly inside a segment, whose batches below it are then no
// longer served.
//
// Kafka writes its log-start-offset checkpoint about once a minute and
// lets a crash lose the latest move, relying on replicas to keep it.
// Sluice has no replica to ask, so AdvanceStart makes the move durable
// before it returns, in log-start.checkpoint beside the segments (see
// checkpoint.go), in this order:
//
//  1. the log is synced up to the offset, so the checkpoint never names an
//     offset above the durable log end (under fsync=interval or never the
//     high watermark, and so a DeleteRecords offset, may be above it);
//  2. the checkpoint is written and the directory synced;
//  3. StartOffset moves; readers below it get ErrOffsetOutOfRange;
//  4. the segments wholly below it are deleted, as retention would.
//
// A crash before step 2 completes leaves the old start, after it the new
// one: never a start between them, never one above the asked offset. Open
// takes the larger of the checkpoint and the first segment's base; a
// checkpoint that does not decode, or that lies above the recovered log
// end (segments it covered are gone), is refused, not guessed around:
// ignoring it would serve records a client deleted.
const logStartCheckpointFile = "log-start.checkpoint"

// AdvanceStart moves the log start offset up to offset, durably, and
// deletes the segments wholly below it. An offset at or below the current
// start changes nothing; one above NextOffset is ErrOffsetOutOfRange (the
// caller bounds it by the high watermark first). It returns the log start
// offset after the call.
func (l *Log) AdvanceStart(offset int64) (int64, error) {
	if next := l.next.Load(); offset > next {
		return l.start.Load(), fmt.Errorf("%w: log start %d past the log end %d", ErrOffsetOutOfRange, offset, next)
	}
	if l.synced.Load() < offset {
		if err := l.Sync(); err != nil {
			return l.start.Load(), err
		}
	}
	l.swapMu.Lock()
	defer l.swapMu.Unlock()
	if err := l.stickyErr(); err != nil {
		return l.start.Load(), err
	}
	if l.isClosed() {
		return l.start.Load(), ErrClosed
	}
	if offset <= l.start.Load() {
		// Read under swapMu: a start that retention or another call
		// raised is durable by the time they release it, so answering
		// with it cannot acknowledge a start a crash would take back.
		return l.start.Load(), nil
	}
	if err := l.writeOffsetCheckpoint(logStartCheckpointFile, offset); err != nil {
		return l.start.Load(), err
	}
	l.mu.Lock()
	l.setStartLocked(offset) // folds the leader epochs below it too
	l.mu.Unlock()
	l.logger.Info("commitlog: log start offset advanced", "dir", l.dir, "offset", offset)
	_, err := l.deleteBeforeLocked(offset, "below the log start offset")
	return offset, err
}

func (l *Log) isClosed() bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.closed
}

// raiseStartLocked moves StartOffset up to to, never down: the first
// segment's base may lie below a start AdvanceStart set. Requires swapMu
// (or the log not yet shared).
func (l *Log) raiseStartLocked(to int64) {
	if to > l.start.Load() {
		l.setStartLocked(to) // folds the leader epochs below it too
	}
}

// readLogStart reads the log start checkpoint before recovery changes
// anything, so that a damaged one is refused with the directory as found.
// It returns -1 when there is none.
func (l *Log) readLogStart() (int64, error) {
	offset, found, err := l.readOffsetCheckpoint(logStartCheckpointFile)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v; it records a DeleteRecords, and serving the records below it again would be a guess: restore the file, or remove it to serve from the first segment; nothing was changed",
			ErrCorrupt, filepath.Join(l.dir, logStartCheckpointFile), err)
	}
	if !found {
		return -1, nil
	}
	return offset, nil
}

// applyLogStart raises the recovered start to the checkpointed one.
func (l *Log) applyLogStart(offset int64) error {
	if offset > l.next.Load() {
		return fmt.Errorf("%w: %s names offset %d but the log ends at %d: segments it covered are missing",
			ErrCorrupt, filepath.Join(l.dir, logStartCheckpointFile), offset, l.next.Load())
	}
	l.raiseStartLocked(offset) // a start retention moved further wins
	return nil
}
