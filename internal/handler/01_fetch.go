package handler

// Fetch, v4-16.
//
// v4 is the first version with record batches and isolation levels (and
// librdkafka's minimum for them). Byte limits follow KIP-74: max_bytes
// bounds the response and partition_max_bytes each partition, except that
// the first batch of the first partition with data is always returned
// whole so a consumer can make progress. A fetch that finds fewer than
// min_bytes waits, up to max_wait_ms, for any of its partitions' high
// watermarks to move (a long poll driven by the partitions' events, not a
// timer loop). v9 adds current_leader_epoch checks (KIP-320, leadership.go:
// FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH); v13 topic ids
// (KIP-516). At isolation level read_committed (1) a fetch stops at the
// last stable offset and lists the aborted transactions among the records
// it returns, which the client skips (KIP-98); read_uncommitted reads to
// the high watermark and gets no such list.
//
// v7 adds fetch sessions (KIP-227; fetch_session.go): a full fetch at
// session epoch 0 creates a session, and the client's later incremental
// fetches list only the partitions whose fetch position changed, and are
// answered only with the partitions that have something new. Epoch -1
// with any session id, and every version before v7, is a sessionless full
// fetch. Isolation level, byte limits and long polls work the same in a
// session: only which partitions are read and answered differs.
//
// With authorization on, a partition of a topic the principal may not
// Read gets TOPIC_AUTHORIZATION_FAILED and no records; a fetch claiming to
// come from a replica needs ClusterAction on the cluster, else every
// partition it names gets TOPIC_AUTHORIZATION_FAILED and its session is
// left alone.
//
// Under a consumer_byte_rate quota (quotas.go) a fetch returns at most the
// quota's burst, and one whose records do not fit what the client may
// still use is answered without records and with the throttle time
// (KIP-219); its bytes are then not counted.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/bufpool"
	"sluice/internal/metadata"
	"sluice/internal/partition"
	"sluice/internal/topics"
)

func init() { register(1, 4, 16, fetch) }

func fetch(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.FetchRequest)
	if fromFollower(req) && !h.authorizedCluster(ctx, acl.OpClusterAction) {
		return ready(refuseFetch(req, kerr.TopicAuthorizationFailed.Code))
	}
	f, code := h.openFetch(req)
	if code != 0 {
		return ready(fetchError(req, code, 0))
	}
	if h.authorizing() {
		auth := h.topicAuth(ctx, acl.OpRead)
		f.auth = &auth
	}
	f.quotaBytes = h.fetchQuotaBytes(ctx, req)
	resp, done := h.fetchPass(req, &f, req.MaxWaitMillis <= 0)
	if done {
		h.throttleFetch(ctx, req, resp)
		return Result{Resp: resp, Release: releaseRecords}
	}
	return Result{Wait: func() kmsg.Response {
		out := h.longPoll(req, &f, resp)
		if fr, ok := out.(*kmsg.FetchResponse); ok {
			h.throttleFetch(ctx, req, fr)
		}
		return out
	}, Release: releaseRecords}
}

// refuseFetch answers every partition the request names with code.
func refuseFetch(req *kmsg.FetchRequest, code int16) *kmsg.FetchResponse {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		for _, rp := range rt.Partitions {
			sp := kmsg.NewFetchResponseTopicPartition()
			sp.Partition, sp.ErrorCode = rp.Partition, code
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
			sp.RecordBatches = noRecords
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// releaseRecords returns the buffers a fetch response's records were read
// into (each partition's its own, from bufpool by way of the log) once
// the response is encoded.
func releaseRecords(r kmsg.Response) {
	resp, ok := r.(*kmsg.FetchResponse)
	if !ok {
		return
	}
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			sp := &resp.Topics[i].Partitions[j]
			bufpool.Put(sp.RecordBatches)
			sp.RecordBatches = nil
		}
	}
}

// fetchPass reads the fetch's partitions once and reports whether the
// answer is ready: min_bytes reached, a partition failed (errors answer at
// once rather than wait), or last (max_wait_ms has passed). A ready answer
// of a full fetch creates its session; of an incremental one, finishes it.
func (h *Handler) fetchPass(req *kmsg.FetchRequest, f *fetchCtx, last bool) (*kmsg.FetchResponse, bool) {
	if f.mode == incrementalFetch {
		return h.sessionPass(req, f, last)
	}
	resp, tally := h.readRequest(req, f)
	if !last && !tally.enough(req) {
		return resp, false
	}
	if f.mode == fullFetch {
		resp.SessionID = h.createSession(req, resp)
	}
	return resp, true
}

// longPoll waits for data on any partition of the fetch, re-reading on
// each high-watermark change until the answer is ready or the broker
// shuts down.
func (h *Handler) longPoll(req *kmsg.FetchRequest, f *fetchCtx, resp *kmsg.FetchResponse) kmsg.Response {
	wake := make(chan struct{}, 1)
	parts := h.watchSet(req, f)
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
			resp, _ = h.fetchPass(req, f, true)
			return resp
		case <-h.env.Ctx.Done():
			return resp
		}
		var done bool
		if resp, done = h.fetchPass(req, f, false); done {
			return resp
		}
	}
}

// watchSet is the partitions whose high-watermark changes wake a long
// poll: the request's, or the session's.
func (h *Handler) watchSet(req *kmsg.FetchRequest, f *fetchCtx) []*partition.Partition {
	if f.mode == incrementalFetch {
		return h.sessionWatchSet(req, f)
	}
	var out []*partition.Partition
	for _, rt := range req.Topics {
		t := h.fetchTopic(req, rt.Topic, rt.TopicID)
		for _, rp := range rt.Partitions {
			if p := topicPartition(t, rp.Partition); p != nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// fetchTopic resolves a topic by id from v13 (KIP-516), else by name.
func (h *Handler) fetchTopic(req *kmsg.FetchRequest, name string, id [16]byte) *topics.Topic {
	if req.Version >= 13 {
		return h.env.Topics.GetByID(metadata.TopicID(id))
	}
	return h.env.Topics.Get(name)
}

// topicPartition is partition p of t, or nil when either does not exist.
func topicPartition(t *topics.Topic, p int32) *partition.Partition {
	if t == nil || p < 0 || int(p) >= len(t.Partitions) {
		return nil
	}
	return t.Partitions[p]
}

// fetchTally accounts one pass: the response-wide byte limit and what
// decides whether the answer is ready.
type fetchTally struct {
	remaining int
	gotData   bool       // a partition already returned data: KIP-74's exception is used
	size      int        // bytes of records in the response
	failed    bool       // a partition has an error code
	auth      *topicAuth // nil: authorization is off
}

func newTally(req *kmsg.FetchRequest, f *fetchCtx) fetchTally {
	t := fetchTally{remaining: int(req.MaxBytes), auth: f.auth}
	if t.remaining <= 0 {
		t.remaining = 1<<31 - 1
	}
	if f.quotaBytes > 0 {
		t.remaining = min(t.remaining, f.quotaBytes)
	}
	return t
}

func (t *fetchTally) enough(req *kmsg.FetchRequest) bool {
	return t.failed || t.size >= int(req.MinBytes)
}

// readRequest reads every partition the request names, in its order,
// into a response of the same shape.
func (h *Handler) readRequest(req *kmsg.FetchRequest, f *fetchCtx) (*kmsg.FetchResponse, fetchTally) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	tally := newTally(req, f)
	resp.Topics = make([]kmsg.FetchResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		st := &resp.Topics[i]
		*st = kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		t := h.fetchTopic(req, rt.Topic, rt.TopicID)
		st.Partitions = make([]kmsg.FetchResponseTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			sp := &st.Partitions[j]
			*sp = kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			h.fetchPartition(req, t, rp, sp, &tally)
		}
	}
	return resp, tally
}

// fetchPartition reads one partition into its own buffer, sized by what
// the log holds: a shared buffer would be copied again each time a later
// partition grew it.
func (h *Handler) fetchPartition(req *kmsg.FetchRequest, t *topics.Topic, rp kmsg.FetchRequestTopicPartition, sp *kmsg.FetchResponseTopicPartition, tally *fetchTally) {
	h.readPartition(req, t, rp, sp, tally)
	tally.size += len(sp.RecordBatches)
	tally.failed = tally.failed || sp.ErrorCode != 0
}

func (h *Handler) readPartition(req *kmsg.FetchRequest, t *topics.Topic, rp kmsg.FetchRequestTopicPartition, sp *kmsg.FetchResponseTopicPartition, tally *fetchTally) {
	sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
	sp.RecordBatches = noRecords
	if t != nil && tally.auth != nil && !tally.auth.allowed(t.Name) {
		sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
		return
	}
	p := topicPartition(t, rp.Partition)
	if p == nil {
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
	limit := min(int(rp.PartitionMaxBytes), tally.remaining)
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
	if got == 0 || (got > limit && tally.gotData) {
		return // only the first partition with data may exceed the limits
	}
	tally.gotData = true
	tally.remaining -= got
	sp.RecordBatches = res.Records
	h.env.Records.Fetched(t.Name, got)
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
