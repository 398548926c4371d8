package partition

import "sluice/internal/commitlog"

// Leader epochs (KIP-101, KIP-279, KIP-320). Every batch is stamped with
// the epoch of the leader that appended it (writeLocked), and the log
// keeps where each epoch began. Clients use the epoch twice: they send
// the epoch they last saw in Metadata as current_leader_epoch, and a
// broker at another epoch refuses them (FENCED_LEADER_EPOCH when theirs
// is older, UNKNOWN_LEADER_EPOCH when newer), which makes them refresh
// metadata; and when they see a new epoch they ask OffsetForLeaderEpoch
// where the epoch of the last batch they consumed ended, and if that is
// below their position the log was cut under them: they report the loss
// and resume at the end offset instead of at an offset that now holds
// other records.
//
// On one broker the epoch is bumped at every open, as Kafka's controller
// does when a restarted broker is elected leader again, rather than kept
// at 0. A restart is when the log can change under a consumer: under
// fsync=interval or never, a power loss takes records consumers have
// already read, and producers then write new records at the same
// offsets. With the epoch unchanged, a consumer resuming at its position
// would silently skip those new records; with a new epoch its first
// fetch is fenced and its truncation check finds the cut. The price is
// one metadata refresh and one OffsetForLeaderEpoch per partition per
// consumer after each restart, which every Kafka client does on any
// leader change. The epoch taken is one above the highest the log has
// ever begun (kept even when a cut removes all of an epoch's batches),
// so an epoch is never reused; a new partition starts at 0.
//
// Replication will make the epoch the partition's Raft term: a new term
// calls BeginLeaderEpoch, and nothing else changes the epoch.

// LeaderEpoch returns the epoch this partition's leader stamps on the
// batches it appends.
func (p *Partition) LeaderEpoch() int32 { return p.epoch.Load() }

// BeginLeaderEpoch makes epoch the partition's leader epoch from the log
// end on. It waits for appends in progress, makes the epoch's start
// durable, and only then stamps it on new batches. epoch must be above
// every epoch the log has begun (commitlog.ErrStaleEpoch otherwise).
func (p *Partition) BeginLeaderEpoch(epoch int32) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.log.BeginEpoch(epoch); err != nil {
		return err
	}
	p.epoch.Store(epoch)
	return nil
}

// beginNextEpoch is what opening a partition does on one broker: lead it
// at the epoch after the highest its log has begun (see above).
func (p *Partition) beginNextEpoch() error {
	return p.BeginLeaderEpoch(p.log.HighestEpoch() + 1)
}

// EpochEndOffset answers OffsetForLeaderEpoch for epoch: the epoch that
// wrote up to the end offset, and the end offset (the log end for the
// current epoch, else where the next known epoch began);
// commitlog.NoEpoch and NoOffset for an epoch the log cannot place.
func (p *Partition) EpochEndOffset(epoch int32) (int32, int64) { return p.log.EpochEndOffset(epoch) }

// EpochForOffset returns the leader epoch that wrote offset, NoEpoch when
// the log knows none.
func (p *Partition) EpochForOffset(offset int64) int32 {
	epoch, ok := p.log.EpochForOffset(offset)
	if !ok {
		return commitlog.NoEpoch
	}
	return epoch
}
