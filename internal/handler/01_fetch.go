package handler

// Fetch, v4-16.
//
// v4 is the first version with record batches and isolation levels (and
// librdkafka's minimum for them). Sluice keeps no fetch sessions: every
// answer carries session id 0, which KIP-227 defines as "no session was
// created", so clients go on sending full fetches; a request naming a
// session id gets FETCH_SESSION_ID_NOT_FOUND. Byte limits follow KIP-74:
// max_bytes bounds the response and partition_max_bytes each partition,
// except that the first batch of the first partition with data is always
// returned whole so a consumer can make progress. A fetch that finds fewer
// than min_bytes waits, up to max_wait_ms, for any of its partitions' high
// watermarks to move (a long poll driven by the partitions' events, not a
// timer loop). v9 adds current_leader_epoch checks (KIP-320, leadership.go:
// FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH); v13 topic ids
// (KIP-516). At isolation level read_committed (1) a fetch stops at the
// last stable offset and lists the aborted transactions among the records
// it returns, which the client skips (KIP-98); read_uncommitted reads to
// the high watermark and gets no such list.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/metadata"
	"sluice/internal/partition"
	"sluice/internal/topics"
)

func init() { register(1, 4, 16, fetch) }

func fetch(h *Handler, _ context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.FetchRequest)
	if req.Version >= 7 && req.SessionID != 0 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return ready(resp)
	}
	if req.Version >= 7 && req.SessionEpoch != 0 && req.SessionEpoch != -1 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = kerr.InvalidFetchSessionEpoch.Code
		return ready(resp)
	}
	resp, size, errs := h.fetchOnce(req)
	if errs || size >= int(req.MinBytes) || req.MaxWaitMillis <= 0 {
		return ready(resp)
	}
	return Result{Wait: func() kmsg.Response { return h.longPoll(req, resp) }}
}

// longPoll waits for data on any requested partition, re-reading on each
// high-watermark change until min_bytes is met, max_wait passes or the
// broker shuts down.
func (h *Handler) longPoll(req *kmsg.FetchRequest, resp *kmsg.FetchResponse) kmsg.Response {
	wake := make(chan struct{}, 1)
	parts := h.fetchPartitions(req)
	for _, p := range parts {
		p.Watch(wake)
	}
	defer func() {
		for _, p := range parts {
			p.Unwatch(wake)
		}
	}()
	timer := time.NewTimer(time.Duration(req.MaxWaitMillis) * time.Millisecond)
	defer timer.Stop()
	for {
		select {
		case <-wake:
		case <-timer.C:
			resp, _, _ = h.fetchOnce(req)
			return resp
		case <-h.env.Ctx.Done():
			return resp
		}
		var size int
		var errs bool
		resp, size, errs = h.fetchOnce(req)
		if errs || size >= int(req.MinBytes) {
			return resp
		}
	}
}

func (h *Handler) fetchPartitions(req *kmsg.FetchRequest) []*partition.Partition {
	var out []*partition.Partition
	for _, rt := range req.Topics {
		t := h.fetchTopic(req, rt)
		if t == nil {
			continue
		}
		for _, rp := range rt.Partitions {
			if rp.Partition >= 0 && int(rp.Partition) < len(t.Partitions) {
				out = append(out, t.Partitions[rp.Partition])
			}
		}
	}
	return out
}

func (h *Handler) fetchTopic(req *kmsg.FetchRequest, rt kmsg.FetchRequestTopic) *topics.Topic {
	if req.Version >= 13 {
		return h.env.Topics.GetByID(metadata.TopicID(rt.TopicID))
	}
	return h.env.Topics.Get(rt.Topic)
}

// fetchBudget tracks the response-wide byte limit.
type fetchBudget struct {
	remaining int
	gotData   bool // a partition already returned data: KIP-74's exception is used
}

// fetchOnce reads every requested partition once. It returns the response,
// the bytes of records in it, and whether any partition had an error
// (errors answer at once rather than wait).
func (h *Handler) fetchOnce(req *kmsg.FetchRequest) (*kmsg.FetchResponse, int, bool) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	budget := fetchBudget{remaining: int(req.MaxBytes)}
	if req.Version < 3 || budget.remaining <= 0 {
		budget.remaining = 1<<31 - 1
	}
	size := 0
	anyErr := false
	resp.Topics = make([]kmsg.FetchResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		st := &resp.Topics[i]
		*st = kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		t := h.fetchTopic(req, rt)
		st.Partitions = make([]kmsg.FetchResponseTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			sp := &st.Partitions[j]
			*sp = kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			h.fetchPartition(req, t, rp, sp, &budget)
			size += len(sp.RecordBatches)
			if sp.ErrorCode != 0 {
				anyErr = true
			}
		}
	}
	return resp, size, anyErr
}

// fetchPartition reads one partition into its own buffer, sized by what
// the log holds: a shared buffer would be copied again each time a later
// partition grew it.
func (h *Handler) fetchPartition(req *kmsg.FetchRequest, t *topics.Topic, rp kmsg.FetchRequestTopicPartition, sp *kmsg.FetchResponseTopicPartition, budget *fetchBudget) {
	sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
	sp.RecordBatches = noRecords
	if t == nil || rp.Partition < 0 || int(rp.Partition) >= len(t.Partitions) {
		sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
		if t == nil && req.Version >= 13 {
			sp.ErrorCode = kerr.UnknownTopicID.Code
		}
		return
	}
	if _, code := h.leaderCheck(t.Name, rp.Partition, rp.CurrentLeaderEpoch); code != 0 {
		sp.ErrorCode = code
		return
	}
	p := t.Partitions[rp.Partition]
	limit := min(int(rp.PartitionMaxBytes), budget.remaining)
	read := p.Read
	if req.IsolationLevel == 1 {
		read = p.ReadCommitted
	}
	res, err := read(rp.FetchOffset, limit, nil)
	sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = res.HighWatermark, res.LastStableOffset, res.LogStart
	if err != nil {
		sp.ErrorCode = readErrorCode(err)
		return
	}
	got := len(res.Records)
	if got == 0 || (got > limit && budget.gotData) {
		return // only the first partition with data may exceed the limits
	}
	budget.gotData = true
	budget.remaining -= got
	sp.RecordBatches = res.Records
	for _, a := range res.Aborted {
		at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
		at.ProducerID, at.FirstOffset = a.ProducerID, a.FirstOffset
		sp.AbortedTransactions = append(sp.AbortedTransactions, at)
	}
}

// noRecords is the records field of a partition with no data: empty, not
// null, since librdkafka rejects a null record set (size -1) in the
// non-flexible versions it uses.
var noRecords = []byte{}

func readErrorCode(err error) int16 {
	if errors.Is(err, partition.ErrOffsetOutOfRange) {
		return kerr.OffsetOutOfRange.Code
	}
	return kerr.KafkaStorageError.Code
}
