package commitlog

import (
	"sync"
	"sync/atomic"
)

// The leader-epoch cache (KIP-101, KIP-279): for each leader epoch that
// wrote to the log, the offset of its first batch. It answers
// OffsetForLeaderEpoch, which followers and consumers use to find where
// an epoch they read ended and so detect a log that was cut under them
// (KIP-320).
//
// Entries ascend in both epoch and start offset. They follow the log:
// cutting the log's end drops the entries that start at or after the new
// end; moving its start folds the entries at or below it into one entry,
// the epoch of the first remaining batch, starting at the new start.
//
// highest is the largest epoch ever begun on the log and outlives its
// entry: when a cut removes every batch of an epoch, the epoch is still
// spent. A leader that took it again would let a consumer that had read
// the lost batches at that epoch carry on unfenced, at offsets that now
// hold other records.
type epochCache struct {
	mu      sync.RWMutex
	entries []EpochEntry
	highest int32
	// latest mirrors the last entry's epoch (NoEpoch when there is none)
	// for Append, which compares every batch with it without taking mu.
	latest atomic.Int32
}

// EpochEntry says that leader epoch Epoch wrote the log from StartOffset.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET: what
// OffsetForLeaderEpoch answers for an epoch it cannot place.
const (
	NoEpoch  int32 = -1
	NoOffset int64 = -1
)

func newEpochCache() *epochCache {
	c := &epochCache{highest: NoEpoch}
	c.latest.Store(NoEpoch)
	return c
}

// reset replaces the whole cache (a checkpoint read at open).
func (c *epochCache) reset(highest int32, entries []EpochEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries, c.highest = entries, highest
	c.publishLocked()
}

func (c *epochCache) publishLocked() {
	latest := NoEpoch
	if n := len(c.entries); n > 0 {
		latest = c.entries[n-1].Epoch
	}
	c.latest.Store(latest)
}

// Highest returns the largest epoch ever begun, NoEpoch for none.
func (c *epochCache) Highest() int32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.highest
}

// assign records that e.Epoch wrote from e.StartOffset, and reports
// whether anything changed. As in Kafka, entries that would break the
// order (an epoch at or above e's, or a start at or after e's) are
// dropped first: the log is the truth, and a new epoch at an offset means
// nothing after that offset belongs to an older one. An entry for the
// latest epoch at a later offset changes nothing.
func (c *epochCache) assign(e EpochEntry) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.entries); n > 0 {
		last := c.entries[n-1]
		if e.Epoch == last.Epoch && e.StartOffset >= last.StartOffset {
			return false
		}
	}
	keep := len(c.entries)
	for keep > 0 && (c.entries[keep-1].Epoch >= e.Epoch || c.entries[keep-1].StartOffset >= e.StartOffset) {
		keep--
	}
	c.entries = append(c.entries[:keep], e)
	c.highest = max(c.highest, e.Epoch)
	c.publishLocked()
	return true
}

// truncateFromEnd drops the entries of epochs that start at or after end,
// the log's new end, and reports whether any went.
func (c *epochCache) truncateFromEnd(end int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := len(c.entries)
	for keep > 0 && c.entries[keep-1].StartOffset >= end {
		keep--
	}
	if keep == len(c.entries) {
		return false
	}
	c.entries = c.entries[:keep]
	c.publishLocked()
	return true
}

// truncateFromStart folds the entries at or below start, the log's new
// start, into the last of them, moved to start: the first batch left
// belongs to that epoch (Kafka's rule). It reports whether anything
// changed.
func (c *epochCache) truncateFromStart(start int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	folded := 0
	for folded < len(c.entries) && c.entries[folded].StartOffset <= start {
		folded++
	}
	if folded == 0 || (folded == 1 && c.entries[0].StartOffset == start) {
		return false
	}
	first := EpochEntry{Epoch: c.entries[folded-1].Epoch, StartOffset: start}
	c.entries = append([]EpochEntry{first}, c.entries[folded:]...)
	return true
}

// endOffsetFor answers OffsetForLeaderEpoch for epoch on a log whose end
// offset is end, by Kafka's rules: the latest epoch ends at the log end;
// an older epoch ends where the next known epoch starts, and is answered
// with the last known epoch at or below it (the epoch that actually wrote
// up to there); an epoch below every known one gets the first known
// start, since the log no longer holds anything older; an epoch above
// every known one is undefined.
func (c *epochCache) endOffsetFor(epoch int32, end int64) (int32, int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := len(c.entries)
	switch {
	case epoch == NoEpoch || n == 0:
		return NoEpoch, NoOffset
	case epoch == c.entries[n-1].Epoch:
		return epoch, end
	case epoch > c.entries[n-1].Epoch:
		return NoEpoch, NoOffset
	}
	next := c.firstAboveLocked(epoch)
	if next == 0 {
		return epoch, c.entries[0].StartOffset
	}
	return c.entries[next-1].Epoch, c.entries[next].StartOffset
}

// firstAboveLocked returns the index of the first entry whose epoch is
// above epoch (len(entries) for none). Requires mu.
func (c *epochCache) firstAboveLocked(epoch int32) int {
	i := 0
	for i < len(c.entries) && c.entries[i].Epoch <= epoch {
		i++
	}
	return i
}

// epochForOffset returns the epoch that wrote offset: the last entry
// starting at or before it.
func (c *epochCache) epochForOffset(offset int64) (int32, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i := 0
	for i < len(c.entries) && c.entries[i].StartOffset <= offset {
		i++
	}
	if i == 0 {
		return NoEpoch, false
	}
	return c.entries[i-1].Epoch, true
}

// snapshot returns a copy of the entries and the highest epoch.
func (c *epochCache) snapshot() (int32, []EpochEntry) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.highest, append([]EpochEntry(nil), c.entries...)
}
