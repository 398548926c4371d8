package handler

// Produce, v3-12.
//
// v3 is the first version with record batch v2, the only format Sluice
// stores; librdkafka enables batches only when the broker offers v3 (and
// zstd only with v7). Each partition's records must be exactly one valid
// batch: a bad CRC, framing or record count gets CORRUPT_MESSAGE for that
// partition only; over max.message.bytes, MESSAGE_TOO_LARGE; a partition
// this broker does not lead, NOT_LEADER_OR_FOLLOWER; acks=-1 with fewer
// in-sync replicas than min.insync.replicas (one broker: any value above
// 1), NOT_ENOUGH_REPLICAS. acks must be
// -1, 0 or 1 (else INVALID_REQUIRED_ACKS). acks=0 gets no response at all,
// and if any partition failed the connection is closed, as Kafka does, so
// the client notices;
// acks=1 is answered once the batch is appended; acks=-1 once it is
// durable (see package partition), or REQUEST_TIMED_OUT after the
// request's timeout. v5 adds log_start_offset; v8 the error message and
// record errors (KIP-467): a refused partition is told why in words, and
// which records were at fault where single records were (see
// produce_refusal.go); v11 TRANSACTION_ABORTABLE (KIP-890); v12 is
// transactions v2 (KIP-890 part 2, see produce_txn.go). Records whose
// CreateTime is out of the topic's message.timestamp.before.max.ms /
// after.max.ms (KIP-937) get INVALID_TIMESTAMP.
// Batches from idempotent producers (KIP-98) go through the partition's
// producer state: a retry of one of the producer's last five batches is
// answered with its original offsets and stored once; a sequence gap gets
// OUT_OF_ORDER_SEQUENCE_NUMBER, a stale epoch INVALID_PRODUCER_EPOCH, a
// producer the partition does not know mid-sequence UNKNOWN_PRODUCER_ID
// (KIP-360). A transactional batch must come from the producer's current
// epoch and go to a partition already in its transaction (KIP-890 part 1,
// see produce_txn.go); control batches are the broker's own.
// With authorization on, a partition of a topic the principal may not
// Write gets TOPIC_AUTHORIZATION_FAILED, and a transactional request whose
// transactional id it may not Write gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED
// for every partition; neither is appended nor joins a transaction.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/cluster"
	"sluice/internal/partition"
	"sluice/internal/recordbatch"
	"sluice/internal/topics"
)

func init() { register(0, 3, 12, produce) }

// durableWait is an acks=all partition waiting for its fsync.
type durableWait struct {
	p    *partition.Partition
	next int64
	resp *kmsg.ProduceResponseTopicPartition
}

func produce(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	acksOK := req.Acks == -1 || req.Acks == 0 || req.Acks == 1
	var waits []durableWait
	joins := txnJoins{deferred: req.Acks == -1} // on the stack: the wait takes only joins.adds
	auth := h.topicAuth(ctx, acl.OpWrite)
	txnDenied := req.TransactionID != nil && h.authorizing() &&
		!h.authorized(ctx, acl.OpWrite, acl.ResourceTransactionalID, *req.TransactionID)
	if acksOK && !txnDenied {
		h.addTxnPartitions(req, &joins, &auth)
	}
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		st := &resp.Topics[i]
		*st = kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			sp := &st.Partitions[j]
			*sp = kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			if !acksOK {
				refused(kerr.InvalidRequiredAcks.Code, "acks must be -1 (all), 0 or 1, not %d", req.Acks).answer(sp, req.Version)
				continue
			}
			if txnDenied {
				refused(kerr.TransactionalIDAuthorizationFailed.Code, "the principal may not write transactional id %q", *req.TransactionID).answer(sp, req.Version)
				continue
			}
			if !auth.allowed(rt.Topic) {
				refused(kerr.TopicAuthorizationFailed.Code, "the principal may not write topic %s", rt.Topic).answer(sp, req.Version)
				continue
			}
			if p, next := h.producePartition(rt.Topic, rp, req, sp, &joins); p != nil && req.Acks == -1 {
				waits = append(waits, durableWait{p, next, sp})
			}
		}
	}
	if req.Acks == 0 && acksOK {
		return Result{NoResponse: true, CloseConn: anyError(resp)}
	}
	adds := joins.adds
	if len(waits) == 0 && len(adds) == 0 {
		return ready(resp)
	}
	timeout := time.Duration(req.TimeoutMillis) * time.Millisecond
	return Result{
		Wait: func() kmsg.Response {
			h.awaitDurable(waits, adds.durables(), timeout)
			adds.finish(resp, req.Version)
			return resp
		},
		Abandon: func() {
			for _, w := range waits {
				w.p.Flush()
			}
			adds.abandon()
		},
	}
}

func anyError(resp *kmsg.ProduceResponse) bool {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return true
			}
		}
	}
	return false
}

// producePartition validates and appends one partition's batch, filling sp.
// It returns the partition and the offset a durable wait needs, or nil.
func (h *Handler) producePartition(topic string, rp kmsg.ProduceRequestTopicPartition, req *kmsg.ProduceRequest, sp *kmsg.ProduceResponseTopicPartition, joins *txnJoins) (*partition.Partition, int64) {
	t := h.env.Topics.Get(topic)
	if t == nil || rp.Partition < 0 || int(rp.Partition) >= len(t.Partitions) {
		refused(kerr.UnknownTopicOrPartition.Code, "this broker has no partition %s-%d", topic, rp.Partition).answer(sp, req.Version)
		return nil, 0
	}
	pl, code := h.leaderCheck(topic, rp.Partition, -1)
	if code != 0 {
		sp.ErrorCode = code
		return nil, 0
	}
	p := t.Partitions[rp.Partition]
	sp.LogStartOffset = p.StartOffset()
	b, r := h.admit(t, p, pl, rp, req, joins)
	if r != nil {
		r.answer(sp, req.Version)
		return nil, 0
	}
	// acks=all syncs in the request's own wait (awaitDurable); the others
	// leave the sync to the partition's flusher. A request for one
	// partition says so: its wait shares no sync (partition.AppendAwaitedAlone).
	append := p.Append
	if req.Acks == -1 {
		append = p.AppendAwaited
		if len(req.Topics) == 1 && len(req.Topics[0].Partitions) == 1 {
			append = p.AppendAwaitedAlone
		}
	}
	res, err := append(b)
	if err != nil {
		appendRefusal(err, topic, rp.Partition, int64(len(b)), p.MaxMessageBytes()).answer(sp, req.Version)
		return nil, 0
	}
	sp.BaseOffset, sp.LogAppendTime = res.BaseOffset, res.LogAppendTime
	h.env.Records.Appended(topic, len(b), int(b.RecordCount()), res.Duplicate)
	return p, res.NextOffset
}

// admit runs the checks a batch passes before it is appended and returns
// the validated batch, or why it is refused.
func (h *Handler) admit(t *topics.Topic, p *partition.Partition, pl cluster.Placement, rp kmsg.ProduceRequestTopicPartition, req *kmsg.ProduceRequest, joins *txnJoins) (recordbatch.Batch, *refusal) {
	topic, part := t.Name, rp.Partition
	if topics.IsInternal(topic) {
		return nil, refused(kerr.InvalidTopicException.Code, "%s is an internal topic: only the broker writes it", topic)
	}
	if max := p.MaxMessageBytes(); int64(len(rp.Records)) > int64(max) {
		return nil, tooLarge(int64(len(rp.Records)), int64(max), topic, part)
	}
	b, err := recordbatch.Validate(rp.Records)
	if err != nil {
		h.env.Logger.Debug("produce: rejected batch", "topic", topic, "partition", part, "err", err)
		return nil, invalidBatch(err, topic, part)
	}
	if extra := len(rp.Records) - len(b); extra != 0 {
		return nil, refused(kerr.CorruptMessage.Code, "the records for %s-%d hold %d bytes after the first batch: one batch per partition is allowed", topic, part, extra)
	}
	if t.Config.Compact() {
		if r := refuseKeyless(b, req.Version, topic, part); r != nil {
			return nil, r
		}
	}
	if r := h.checkTimestamps(b, t.Config, topic, part); r != nil {
		return nil, r
	}
	if r := h.checkTxnBatch(b, req, topic, part, joins); r != nil {
		return nil, r
	}
	if req.Acks == -1 && int(t.Config.MinInsyncReplicas) > len(pl.ISR) {
		return nil, refused(kerr.NotEnoughReplicas.Code, "acks=all needs %d in-sync replicas of %s-%d (min.insync.replicas); it has %d",
			t.Config.MinInsyncReplicas, topic, part, len(pl.ISR))
	}
	return b, nil
}

// refuseKeyless refuses a batch with records without a key, which a
// compacted topic cannot keep, as Kafka does: INVALID_RECORD from v8, with
// every keyless record named, CORRUPT_MESSAGE before. Only compacted
// topics pay for the look inside the records.
func refuseKeyless(b recordbatch.Batch, version int16, topic string, part int32) *refusal {
	keyless, err := b.KeylessRecords()
	switch {
	case err != nil:
		return invalidBatch(err, topic, part)
	case len(keyless) == 0:
		return nil
	}
	code := kerr.InvalidRecord.Code
	if version < 8 {
		code = kerr.CorruptMessage.Code
	}
	faults := make([]kmsg.ProduceResponseTopicPartitionErrorRecord, len(keyless))
	for j, i := range keyless {
		faults[j] = recordFault(i, "record %d has no key, which compacted topic partition %s-%d cannot keep", i, topic, part)
	}
	return recordFaults(code, faults)
}

func appendErrorCode(err error) int16 {
	var pe *partition.ProducerError
	switch {
	case errors.As(err, &pe):
		return pe.Code
	case errors.Is(err, partition.ErrTooLarge):
		return kerr.MessageTooLarge.Code
	case errors.Is(err, partition.ErrClosed):
		return kerr.NotLeaderForPartition.Code // the topic was deleted under us: a client refreshes metadata
	}
	return kerr.KafkaStorageError.Code
}

// awaitDurable makes every acks=all partition durable, with the
// transaction-log records of the request's adds (extra), in one flush
// cycle (partition.MakeDurable), marking the partitions that fail or time
// out; an add's failure is its own wait's to report.
func (h *Handler) awaitDurable(waits []durableWait, extra []partition.Durable, timeout time.Duration) {
	// Not h.env.Ctx: at shutdown the partitions still finish their syncs,
	// and an acknowledged-as-durable answer must not turn into a timeout.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ds := make([]partition.Durable, len(waits), len(waits)+len(extra))
	for i, w := range waits {
		ds[i] = partition.Durable{P: w.p, Next: w.next}
	}
	partition.MakeDurable(ctx, append(ds, extra...))
	for i, d := range ds {
		switch {
		case d.Err == nil:
		case errors.Is(d.Err, context.DeadlineExceeded) || errors.Is(d.Err, context.Canceled):
			waits[i].resp.ErrorCode = kerr.RequestTimedOut.Code
		default:
			waits[i].resp.ErrorCode = appendErrorCode(d.Err)
		}
	}
}
