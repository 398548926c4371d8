package group

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"sluice/internal/partition"
	"sluice/internal/recordbatch"
)

// TxnCommitRequest is a TxnOffsetCommit: offsets committed inside the
// producer's transaction.
type TxnCommitRequest struct {
	CommitRequest
	ProducerID int64
	Epoch      int16
}

// txnTag marks a queued write as part of a transaction: its records are
// pending offsets of producer pid, or, with end, the marker that decides
// them.
type txnTag struct {
	pid    int64
	end    bool
	commit bool
}

// TxnCommit validates a transactional commit and appends its offsets to
// the group's offsets partition as a transactional batch of the producer;
// a producer of an older epoch is refused there (fenced). The wait blocks
// until the write is durable. The offsets become visible when the
// transaction's commit marker is written.
func (s *Service) TxnCommit(req TxnCommitRequest) (wait func(context.Context) []int16) {
	codes := make([]int16, len(req.Offsets))
	fail := func(code int16) func(context.Context) []int16 { return failAll(codes, code) }
	i := s.partitionFor(req.Group)
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Group == "" {
		return fail(kerr.InvalidGroupID.Code)
	}
	if code := s.coord.TxnCommitAllowed(req.Group, req.MemberID, req.InstanceID, req.Generation); code != 0 {
		return fail(code)
	}
	records := s.offsetRecords(req.CommitRequest, codes)
	if len(records) == 0 {
		return func(context.Context) []int16 { return codes }
	}
	raw := recordbatch.BuildTxn(nil, encodeOffsets(records), s.cfg.Clock().UnixMilli(), req.ProducerID, req.Epoch)
	res, err := s.parts[i].AppendTxnWrite(raw)
	var pe *partition.ProducerError
	switch {
	case errors.As(err, &pe):
		return fail(pe.Code)
	case err != nil:
		s.cfg.Logger.Warn("group: transactional offset commit not stored", "group", req.Group, "err", err)
		return fail(kerr.CoordinatorNotAvailable.Code)
	}
	s.coord.Touch(req.Group)
	s.applyQ[i] = append(s.applyQ[i], pendingWrite{next: res.NextOffset, records: records, txn: &txnTag{pid: req.ProducerID}})
	return func(ctx context.Context) []int16 {
		if err := s.durableWait(ctx, i, res.NextOffset); err != nil {
			return fail(kerr.CoordinatorNotAvailable.Code)(ctx)
		}
		return codes
	}
}

// WriteMarker writes a transaction marker to offsets partition index and
// waits until it is durable; the producer's pending offsets of that
// partition are then applied (commit) or dropped (abort), in log order.
func (s *Service) WriteMarker(ctx context.Context, index int32, m recordbatch.ControlMarker) error {
	if index < 0 || int(index) >= len(s.parts) {
		return kerr.UnknownTopicOrPartition
	}
	s.mu.Lock()
	res, err := s.parts[index].AppendMarker(m)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.applyQ[index] = append(s.applyQ[index], pendingWrite{next: res.NextOffset, txn: &txnTag{pid: m.ProducerID, end: true, commit: m.Commit}})
	s.mu.Unlock()
	return s.durableWait(ctx, int(index), res.NextOffset)
}

// offsetRecords makes the records of a commit, setting the code of each
// offset whose metadata is too large. Requires s.mu.
func (s *Service) offsetRecords(req CommitRequest, codes []int16) []offsetRecord {
	now := s.cfg.Clock().UnixMilli()
	var records []offsetRecord
	for j, o := range req.Offsets {
		meta := ""
		if o.Metadata != nil {
			meta = *o.Metadata
		}
		if len(meta) > s.cfg.MaxMetadataBytes {
			codes[j] = kerr.OffsetMetadataTooLarge.Code
			continue
		}
		records = append(records, offsetRecord{group: req.Group, tp: o.TopicPartition,
			value: &Committed{Offset: o.Offset, LeaderEpoch: o.LeaderEpoch, Metadata: meta, CommitTime: now}})
	}
	return records
}

func encodeOffsets(records []offsetRecord) []recordbatch.Record {
	recs := make([]recordbatch.Record, len(records))
	for j, r := range records {
		recs[j] = encodeOffset(r.group, r.tp, r.value)
	}
	return recs
}

// PartitionFor returns the index of the group's offsets partition.
func (s *Service) PartitionFor(group string) int32 { return int32(s.partitionFor(group)) }
