package handler

// InitProducerId, v0-5.
//
// For idempotent producers (no transactional id): a new producer id with
// epoch 0, taken from a durable block so that no id is ever handed out
// twice, also across restarts. From v3 (KIP-360) a producer may send its
// current id and epoch to bump the epoch and keep its id, after
// UNKNOWN_PRODUCER_ID or a sequence error; an id this broker never issued,
// or an epoch at its maximum, gets a fresh id instead.
//
// With a transactional id the transaction coordinator answers: a new
// epoch that fences every older producer of the id (KIP-98), an ongoing
// transaction aborted first (CONCURRENT_TRANSACTIONS until done), KIP-360
// recovery with the current id and epoch, INVALID_TRANSACTION_TIMEOUT
// above transaction.max.timeout.ms. PRODUCER_FENCED (KIP-588) is answered
// as INVALID_PRODUCER_EPOCH below v4, which older clients know.
//
// With authorization on, a transactional id needs Write on it
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), an idempotent producer
// IdempotentWrite on the cluster or Write on some topic
// (CLUSTER_AUTHORIZATION_FAILED).

import (
	"context"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/txn"
)

func init() { register(22, 0, 5, initProducerID) }

func initProducerID(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		if !h.authorized(ctx, acl.OpWrite, acl.ResourceTransactionalID, *req.TransactionalID) {
			resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
			return ready(resp)
		}
		return h.initTransactional(req, resp)
	}
	// An idempotent producer needs IdempotentWrite on the cluster, or
	// Write on some topic (KIP-679), as each of its batches needs Write
	// on its own topic anyway.
	if !h.authorizedCluster(ctx, acl.OpIdempotentWrite) && !h.authorizedAny(ctx, acl.OpWrite, acl.ResourceTopic) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return ready(resp)
	}
	if req.Version >= 3 && req.ProducerID >= 0 && req.ProducerEpoch >= 0 &&
		req.ProducerID < h.env.Topics.ProducerIDHighMark() && req.ProducerEpoch < math.MaxInt16-1 {
		resp.ProducerID, resp.ProducerEpoch = req.ProducerID, req.ProducerEpoch+1
		return ready(resp)
	}
	id, err := h.env.ProducerIDs.Next()
	if err != nil {
		h.env.Logger.Error("init producer id: no durable id block", "err", err)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return ready(resp)
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return ready(resp)
}

func (h *Handler) initTransactional(req *kmsg.InitProducerIDRequest, resp *kmsg.InitProducerIDResponse) Result {
	if h.env.Txns == nil || *req.TransactionalID == "" {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return ready(resp)
	}
	r := txn.InitRequest{TxnID: *req.TransactionalID, TimeoutMs: req.TransactionTimeoutMillis, ProducerID: -1, Epoch: -1}
	if req.Version >= 3 {
		r.ProducerID, r.Epoch = req.ProducerID, req.ProducerEpoch
	}
	wait := h.env.Txns.InitProducerID(r)
	return Result{Wait: func() kmsg.Response {
		o := wait()
		resp.ErrorCode = txnErrorCode(o.Err, req.Version, 4)
		if o.Err == nil {
			resp.ProducerID, resp.ProducerEpoch = o.ProducerID, o.Epoch
		}
		return resp
	}}
}
