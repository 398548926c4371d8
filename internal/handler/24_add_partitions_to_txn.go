package handler

// AddPartitionsToTxn, v0-5.
//
// v0-3 come from producers: the partitions join the producer's
// transaction, starting it if none is ongoing, durably before the answer.
// Every partition gets the same code; when one does not exist, it gets
// UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, and
// nothing is added. v2 answers PRODUCER_FENCED where v0-1 answer
// INVALID_PRODUCER_EPOCH (KIP-588).
//
// v4+ is the form brokers send each other (KIP-890 part 1): several
// transactions in one request, each answered on its own, with the rules
// above applied per transaction. A transaction marked VerifyOnly is
// checked, not changed: each partition gets nothing if it is in the
// ongoing transaction of that producer id and epoch, else
// TRANSACTION_ABORTABLE; a wrong producer gets its error on every
// partition (PRODUCER_FENCED, INVALID_PRODUCER_ID_MAPPING, or
// CONCURRENT_TRANSACTIONS while the transaction is being decided). A
// partition leader asks this before it appends a transactional batch.
// Without VerifyOnly the partitions are added as by v0-3 (Kafka's brokers
// do that for transactions-v2 produce requests). v5 only tells the
// coordinator that the sender knows TRANSACTION_ABORTABLE; v4 gets it too,
// as from Kafka, whose coordinator does not look at the version.
//
// Kafka answers v4+ only to principals allowed CLUSTER_ACTION on the
// cluster, and CLUSTER_AUTHORIZATION_FAILED in the top-level error code
// otherwise. Sluice has no authorization yet and, like Kafka without an
// authorizer, answers every connection; the top-level code stays 0.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/txn"
)

func init() { register(24, 0, 5, addPartitionsToTxn) }

func addPartitionsToTxn(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.AddPartitionsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	txns := req.Transactions
	if req.Version < 4 {
		txns = []kmsg.AddPartitionsToTxnRequestTransaction{producerTxn(req)}
	}
	// Every transaction is started before any is waited for, so the
	// appends of transactions on different coordinator shards overlap.
	waits := make([]func() []int16, len(txns))
	for i, t := range txns {
		waits[i] = h.addOrVerify(ctx, t, req.Version)
	}
	return Result{Wait: func() kmsg.Response {
		results := make([]kmsg.AddPartitionsToTxnResponseTransaction, len(txns))
		for i, wait := range waits {
			results[i] = txnResult(txns[i], wait())
		}
		if req.Version < 4 {
			resp.Topics = producerTopics(results[0])
		} else {
			resp.Transactions = results
		}
		return resp
	}}
}

// addOrVerify starts one transaction's part of a request and returns a
// wait for its codes, one per partition in request order.
func (h *Handler) addOrVerify(ctx context.Context, t kmsg.AddPartitionsToTxnRequestTransaction, version int16) func() []int16 {
	tps := txnPartitions(t.Topics)
	now := func(code func(i int) int16) func() []int16 {
		codes := make([]int16, len(tps))
		for i := range tps {
			codes[i] = code(i)
		}
		return func() []int16 { return codes }
	}
	same := func(code int16) func(int) int16 { return func(int) int16 { return code } }
	switch {
	case h.env.Txns == nil:
		return now(same(kerr.CoordinatorNotAvailable.Code))
	case !h.authorized(ctx, acl.OpWrite, acl.ResourceTransactionalID, t.TransactionalID):
		return now(same(kerr.TransactionalIDAuthorizationFailed.Code))
	case h.authorizing() && h.anyDenied(ctx, tps):
		auth := h.topicAuth(ctx, acl.OpWrite)
		return now(func(i int) int16 {
			if !auth.allowed(tps[i].Topic) {
				return kerr.TopicAuthorizationFailed.Code
			}
			return kerr.OperationNotAttempted.Code
		})
	case h.anyMissing(tps):
		return now(func(i int) int16 {
			if h.env.Topics.Partition(tps[i].Topic, tps[i].Partition) == nil {
				return kerr.UnknownTopicOrPartition.Code
			}
			return kerr.OperationNotAttempted.Code
		})
	case t.TransactionalID == "":
		return now(same(kerr.InvalidRequest.Code))
	case t.VerifyOnly:
		errs := h.env.Txns.VerifyEach(t.TransactionalID, t.ProducerID, t.ProducerEpoch, tps)
		return now(func(i int) int16 { return txnErrorCode(errs[i], version, 2) })
	}
	wait := h.env.Txns.AddPartitions(t.TransactionalID, t.ProducerID, t.ProducerEpoch, tps)
	return func() []int16 {
		code := txnErrorCode(wait().Err, version, 2)
		codes := make([]int16, len(tps))
		for i := range codes {
			codes[i] = code
		}
		return codes
	}
}

// anyMissing reports whether a partition does not exist.
// anyDenied reports whether the principal may not Write one of the
// partitions' topics: then none is added.
func (h *Handler) anyDenied(ctx context.Context, tps []txn.TopicPartition) bool {
	auth := h.topicAuth(ctx, acl.OpWrite)
	for _, tp := range tps {
		if !auth.allowed(tp.Topic) {
			return true
		}
	}
	return false
}

func (h *Handler) anyMissing(tps []txn.TopicPartition) bool {
	for _, tp := range tps {
		if h.env.Topics.Partition(tp.Topic, tp.Partition) == nil {
			return true
		}
	}
	return false
}
