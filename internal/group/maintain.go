package group

import (
	"context"

	"sluice/internal/recordbatch"
)

// maintain expires the offsets of long-empty groups (KIP-211) and rewrites
// offsets partitions that have grown past SnapshotBytes, so the offsets
// log does not grow without bound.
func (s *Service) maintain() {
	s.expire()
	for i := range s.parts {
		if err := s.snapshotIfLarge(i); err != nil {
			s.cfg.Logger.Warn("group: offsets snapshot failed", "partition", i, "err", err)
		}
	}
}

// expire writes tombstones for expired offsets and forgets groups that are
// empty and have no offsets left.
func (s *Service) expire() {
	now := s.cfg.Clock()
	type write struct {
		part int
		next int64
	}
	var writes []write
	s.mu.Lock()
	byPart := map[int][]offsetRecord{}
	for _, g := range s.offsets.Groups() {
		empty, since, ok := s.coord.IsEmpty(g)
		if ok && !empty {
			continue
		}
		if !ok {
			since = now
		}
		for _, tp := range s.offsets.Expired(g, since, now, s.cfg.OffsetsRetention) {
			i := s.partitionFor(g)
			byPart[i] = append(byPart[i], offsetRecord{group: g, tp: tp})
		}
	}
	for i, recs := range byPart {
		next, err := s.appendLocked(i, recs)
		if err != nil {
			s.cfg.Logger.Warn("group: writing expired offsets", "err", err)
			continue
		}
		writes = append(writes, write{i, next})
		s.cfg.Logger.Info("group: expired offsets", "offsets", len(recs), "partition", i)
	}
	s.mu.Unlock()
	for _, w := range writes {
		_ = s.durableWait(context.Background(), w.part, w.next)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.coord.List(nil) {
		if empty, _, ok := s.coord.IsEmpty(l.Group); ok && empty && !s.offsets.HasGroup(l.Group) && s.pendingFor(l.Group) == 0 {
			s.coord.Delete(l.Group)
		}
	}
}

// pendingFor counts queued writes for a group. Requires s.mu.
func (s *Service) pendingFor(group string) int {
	n := 0
	for _, r := range s.applyQ[s.partitionFor(group)] {
		for _, rec := range r.records {
			if rec.group == group {
				n++
			}
		}
	}
	return n
}

// snapshotIfLarge rewrites partition i as a snapshot when it has grown
// SnapshotBytes past its last snapshot: roll to a new segment, write every
// live offset of the groups it holds (including queued writes, which
// precede the snapshot in the log), wait until that is durable, then
// delete the segments before it. Replay of snapshot + tail gives the same
// table as replay of the whole log, since later records win.
func (s *Service) snapshotIfLarge(i int) error {
	p := s.parts[i]
	if size := p.Size(); size < s.cfg.SnapshotBytes || size < 2*s.snapshot[i] {
		return nil // small, or mostly live offsets: a snapshot would not shrink it much
	}
	s.mu.Lock()
	if s.txnActiveLocked(i) {
		// Offsets of an undecided transaction, or a decision not yet
		// applied, live only in the log before the snapshot: keep it
		// whole until they are settled. A later maintenance pass retries.
		s.mu.Unlock()
		return nil
	}
	if err := p.Roll(); err != nil {
		s.mu.Unlock()
		return err
	}
	start := p.LogEndOffset()
	live := s.liveLocked(i)
	// The groups' reserved generations and stored states too: the
	// snapshot replaces the records that held them (generation.go,
	// stored_group.go).
	var recs []recordbatch.Record
	for g, ceiling := range s.ceilings {
		if s.partitionFor(g) == i {
			recs = append(recs, encodeGeneration(g, ceiling))
		}
	}
	for g, st := range s.states {
		if s.partitionFor(g) == i {
			recs = append(recs, st)
		}
	}
	var next int64
	for len(live) > 0 || len(recs) > 0 {
		n := min(len(live), 500)
		for _, r := range live[:n] {
			recs = append(recs, encodeOffset(r.group, r.tp, r.value))
		}
		res, err := p.Append(recordbatch.Build(nil, recs, s.cfg.Clock().UnixMilli(), 0))
		if err != nil {
			s.mu.Unlock()
			return err
		}
		next = res.NextOffset
		live, recs = live[n:], nil
	}
	s.mu.Unlock()
	if next > 0 {
		if err := p.WaitDurable(context.Background(), next); err != nil {
			return err
		}
	}
	n, err := p.DeleteBefore(start)
	s.mu.Lock()
	s.snapshot[i] = p.Size()
	s.mu.Unlock()
	s.cfg.Logger.Info("group: offsets snapshot", "partition", i, "from", start, "deletedSegments", n, "bytes", p.Size())
	return err
}

// txnActiveLocked reports whether partition i has queued transactional
// writes or groups with undecided transactional offsets. Requires s.mu.
func (s *Service) txnActiveLocked(i int) bool {
	for _, w := range s.applyQ[i] {
		if w.txn != nil {
			return true
		}
	}
	for _, g := range s.offsets.pendingGroups() {
		if s.partitionFor(g) == i {
			return true
		}
	}
	return false
}

// liveLocked returns the latest value of every offset of partition i's
// groups: the applied table overlaid with queued writes. Requires s.mu.
func (s *Service) liveLocked(i int) []offsetRecord {
	latest := map[string]map[TopicPartition]*Committed{}
	for _, g := range s.offsets.Groups() {
		if s.partitionFor(g) != i {
			continue
		}
		m := map[TopicPartition]*Committed{}
		for tp, c := range s.offsets.Group(g) {
			m[tp] = &c
		}
		latest[g] = m
	}
	for _, w := range s.applyQ[i] {
		for _, r := range w.records {
			if latest[r.group] == nil {
				latest[r.group] = map[TopicPartition]*Committed{}
			}
			latest[r.group][r.tp] = r.value
		}
	}
	var out []offsetRecord
	for g, m := range latest {
		for tp, c := range m {
			if c != nil {
				out = append(out, offsetRecord{group: g, tp: tp, value: c})
			}
		}
	}
	return out
}
