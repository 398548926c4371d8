package commitlog

import "sync/atomic"

// tailHint remembers where the batch last appended to a segment starts,
// so that a read of it, what a consumer at the end of the log asks for
// after every append, goes straight to it: one read of the batch instead
// of the offset index's entry before it and a header read for each batch
// from there (the index has an entry per log.index.interval.bytes, 4 KiB
// by default, so at a light load of 1 KiB batches the walk read three
// headers on average before the batch itself).
//
// One writer (the appender) and many readers, without a lock: a sequence
// number, odd while the writer changes the fields, tells a reader whether
// what it read is one batch's.
type tailHint struct {
	seq                   atomic.Uint64
	base, next, size, pos atomic.Int64
	maxTS                 atomic.Int64
	epoch                 atomic.Int32
}

// set records h, appended at pos. Requires the appender role.
func (t *tailHint) set(h header, pos int64) {
	t.seq.Add(1)
	t.base.Store(h.base)
	t.next.Store(h.next)
	t.size.Store(h.size)
	t.pos.Store(pos)
	t.maxTS.Store(h.maxTS)
	t.epoch.Store(h.epoch)
	t.seq.Add(1)
}

// clear forgets the batch: at a truncation, which may cut it.
func (t *tailHint) clear() {
	t.seq.Add(1)
	t.next.Store(0)
	t.base.Store(0)
	t.seq.Add(1)
}

// find returns the remembered batch if it holds offset and lies wholly
// below size, the segment's bytes of whole batches a reader saw.
func (t *tailHint) find(offset, size int64) (pos int64, h header, ok bool) {
	s := t.seq.Load()
	if s%2 == 1 {
		return 0, header{}, false
	}
	h = header{base: t.base.Load(), next: t.next.Load(), size: t.size.Load(), maxTS: t.maxTS.Load(), epoch: t.epoch.Load()}
	pos = t.pos.Load()
	if t.seq.Load() != s {
		return 0, header{}, false
	}
	if offset < h.base || offset >= h.next || pos+h.size > size {
		return 0, header{}, false
	}
	return pos, h, true
}
