package partition

import "time"

// The operations below are the maintenance side of a partition: every
// change to its log goes through Partition, so that when a partition is
// replicated there is one place that proposes changes and nothing writes
// around it.

// LogEndOffset returns the offset the next appended batch gets. It may be
// above the high watermark while a sync is pending.
func (p *Partition) LogEndOffset() int64 { return p.log.NextOffset() }

// Size returns the bytes of every segment of the partition's log.
func (p *Partition) Size() int64 { return p.log.Size() }

// Segments returns how many segments the log has.
func (p *Partition) Segments() int { return p.log.Segments() }

// EnforceRetention applies the topic's retention.ms and retention.bytes,
// never deleting the active segment, and returns how many segments went.
func (p *Partition) EnforceRetention(now time.Time) (int, error) {
	return p.log.EnforceRetention(now)
}

// Roll starts a new segment unless the active one is empty. An internal
// topic rolls before writing a snapshot of its state, so that everything
// older sits in whole segments DeleteBefore can drop.
func (p *Partition) Roll() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Roll()
}

// DeleteBefore deletes the segments wholly below offset. The caller must
// know that nothing below offset is needed (a durable snapshot at or after
// it), since the data is gone for good.
func (p *Partition) DeleteBefore(offset int64) (int, error) {
	return p.log.DeleteBefore(offset)
}
