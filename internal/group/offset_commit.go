package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
)

// CommitOffset is one partition of an OffsetCommit.
type CommitOffset struct {
	TopicPartition
	Offset      int64
	LeaderEpoch int32
	Metadata    *string
}

// CommitRequest is an OffsetCommit.
type CommitRequest struct {
	Group, MemberID string
	InstanceID      *string
	Generation      int32
	Offsets         []CommitOffset
}

// Commit validates a commit against the group's membership and appends
// it to the offsets log, now, in the caller's order; the returned wait
// blocks until the commit is durable and gives one error code per offset
// (0 for stored). A commit from a stale generation or an unknown member
// gets exactly the error Kafka gives, and nothing is written.
func (s *Service) Commit(req CommitRequest) (wait func(context.Context) []int16) {
	codes := make([]int16, len(req.Offsets))
	fail := func(code int16) func(context.Context) []int16 { return failAll(codes, code) }
	i := s.partitionFor(req.Group)
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Group == "" {
		return fail(kerr.InvalidGroupID.Code)
	}
	if code := s.coord.CommitAllowed(s.cfg.Clock(), req.Group, req.MemberID, req.InstanceID, req.Generation); code != 0 {
		return fail(code)
	}
	records := s.offsetRecords(req, codes)
	if len(records) == 0 {
		return func(context.Context) []int16 { return codes }
	}
	s.coord.Touch(req.Group)
	next, err := s.appendLocked(i, records)
	if err != nil {
		s.cfg.Logger.Warn("group: offset commit not stored", "group", req.Group, "err", err)
		return fail(kerr.CoordinatorNotAvailable.Code)
	}
	return func(ctx context.Context) []int16 {
		if err := s.durableWait(ctx, i, next); err != nil {
			s.cfg.Logger.Warn("group: offset commit not durable", "group", req.Group, "err", err)
			for j := range codes {
				if codes[j] == 0 {
					codes[j] = kerr.CoordinatorNotAvailable.Code
				}
			}
		}
		return codes
	}
}

// failAll sets code on every offset without one and returns a wait that
// answers with the codes at once.
func failAll(codes []int16, code int16) func(context.Context) []int16 {
	for j := range codes {
		if codes[j] == 0 {
			codes[j] = code
		}
	}
	return func(context.Context) []int16 { return codes }
}

// Fetch returns the committed offsets of a group: of the given partitions,
// or of all when tps is nil.
func (s *Service) Fetch(group string, tps []TopicPartition) map[TopicPartition]Committed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetchLocked(group, tps)
}

// FetchStable is Fetch for an OffsetFetch with require_stable (KIP-447):
// it also returns the partitions, of those it answers, whose offset an
// undecided transaction holds. Both are read under one lock: read apart,
// a commit marker applied between the two reads would let the offset from
// before the transaction pass for stable after the transaction's output
// became visible. With tps nil only committed partitions are answered, as
// by Kafka: a partition whose only offset is pending is left out.
func (s *Service) FetchStable(group string, tps []TopicPartition) (committed map[TopicPartition]Committed, unstable map[TopicPartition]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	committed = s.fetchLocked(group, tps)
	check := func(tp TopicPartition) {
		if s.offsets.Unstable(group, tp) {
			if unstable == nil {
				unstable = map[TopicPartition]bool{}
			}
			unstable[tp] = true
		}
	}
	if tps == nil {
		for tp := range committed {
			check(tp)
		}
	}
	for _, tp := range tps {
		check(tp)
	}
	return committed, unstable
}

// fetchLocked is Fetch. Requires s.mu.
func (s *Service) fetchLocked(group string, tps []TopicPartition) map[TopicPartition]Committed {
	if tps == nil {
		return s.offsets.Group(group)
	}
	out := make(map[TopicPartition]Committed, len(tps))
	for _, tp := range tps {
		if c, ok := s.offsets.Get(group, tp); ok {
			out[tp] = c
		}
	}
	return out
}

// DeleteOffsets removes committed offsets of a group (OffsetDelete).
// subscribed reports topics the group's members consume; their offsets
// are kept (GROUP_SUBSCRIBED_TO_TOPIC). It returns a top-level code and one
// code per partition.
func (s *Service) DeleteOffsets(ctx context.Context, group string, tps []TopicPartition, subscribed func(Description, string) bool) (int16, []int16) {
	codes := make([]int16, len(tps))
	i := s.partitionFor(group)
	s.mu.Lock()
	desc, ok := s.coord.Describe(group)
	if !ok && !s.offsets.HasGroup(group) {
		s.mu.Unlock()
		return kerr.GroupIDNotFound.Code, codes
	}
	var records []offsetRecord
	for j, tp := range tps {
		if ok && subscribed(desc, tp.Topic) {
			codes[j] = kerr.GroupSubscribedToTopic.Code
			continue
		}
		if _, has := s.offsets.Get(group, tp); has {
			records = append(records, offsetRecord{group: group, tp: tp})
		}
	}
	if len(records) == 0 {
		s.mu.Unlock()
		return 0, codes
	}
	next, err := s.appendLocked(i, records)
	s.mu.Unlock()
	if err == nil {
		err = s.durableWait(ctx, i, next)
	}
	if err != nil {
		return kerr.CoordinatorNotAvailable.Code, codes
	}
	return 0, codes
}

// DeleteGroup deletes an empty group and all its offsets (DeleteGroups).
func (s *Service) DeleteGroup(ctx context.Context, group string) int16 {
	i := s.partitionFor(group)
	s.mu.Lock()
	if code := s.coord.Delete(group); code != 0 {
		if code != kerr.GroupIDNotFound.Code || !s.offsets.HasGroup(group) {
			s.mu.Unlock()
			return code
		}
	}
	var records []offsetRecord
	for tp := range s.offsets.Group(group) {
		records = append(records, offsetRecord{group: group, tp: tp})
	}
	if len(records) == 0 {
		s.mu.Unlock()
		return 0
	}
	next, err := s.appendLocked(i, records)
	s.mu.Unlock()
	if err == nil {
		err = s.durableWait(ctx, i, next)
	}
	if err != nil {
		return kerr.CoordinatorNotAvailable.Code
	}
	return 0
}
