package commitlog

import "fmt"

// Roll starts a new active segment at NextOffset, unless the active one is
// empty. Internal logs use it before writing a snapshot of their state, so
// that everything before the snapshot sits in whole segments that
// DeleteBefore can drop.
func (l *Log) Roll() error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.stickyErr(); err != nil {
		return err
	}
	if l.active == nil {
		return ErrClosed
	}
	if l.active.size.Load() == 0 {
		return nil
	}
	_, err := l.roll()
	return err
}

// DeleteBefore deletes every segment, never the active one, all of whose
// batches lie below offset, and moves StartOffset to the first remaining
// segment's base. It returns how many segments went. The caller must have
// made sure (by a synced snapshot at or after offset) that nothing below
// offset is needed any more.
func (l *Log) DeleteBefore(offset int64) (int, error) {
	l.swapMu.Lock()
	defer l.swapMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	var victims []*segment
	for len(l.segs) > 1 && l.segs[1].base <= offset {
		victims = append(victims, l.segs[0])
		l.logger.Info("commitlog: deleting segment below snapshot", "dir", l.dir, "segment", l.segs[0].name, "before", offset)
		l.segs = l.segs[1:]
	}
	if len(victims) > 0 {
		l.setStartLocked(l.segs[0].base)
	}
	l.mu.Unlock()
	if len(victims) == 0 {
		return 0, nil
	}
	err := l.removeSegments(victims)
	if serr := l.fsys.SyncDir(l.dir); serr != nil && err == nil {
		err = l.fail(fmt.Errorf("commitlog: fsync dir %s: %w", l.dir, serr))
	}
	return len(victims), err
}
