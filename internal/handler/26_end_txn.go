package handler

// EndTxn, v0-5.
//
// Commits or aborts the producer's transaction. The decision (the
// PrepareCommit or PrepareAbort record) is durable before the answer; the
// markers are written to every partition of the transaction afterwards,
// and until they are, the id answers CONCURRENT_TRANSACTIONS. A retry of
// the decided transaction succeeds; the opposite decision gets
// INVALID_TXN_STATE. v2 answers PRODUCER_FENCED where v0-1 answer
// INVALID_PRODUCER_EPOCH. v5 is transactions v2 (KIP-890 part 2): every
// commit or abort bumps the epoch (a new producer id when the epochs run
// out) and returns it; a retry is recognised by the epoch before the bump,
// so a late retry can never decide the next transaction (KAFKA-17754); an
// abort of an empty transaction is allowed.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/txn"
)

func init() { register(26, 0, 5, endTxn) }

func endTxn(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.EndTxnRequest)
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if !h.authorized(ctx, acl.OpWrite, acl.ResourceTransactionalID, req.TransactionalID) {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return ready(resp)
	}
	if h.env.Txns == nil {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return ready(resp)
	}
	wait := h.env.Txns.EndTxn(txn.EndRequest{TxnID: req.TransactionalID, ProducerID: req.ProducerID,
		Epoch: req.ProducerEpoch, Commit: req.Commit, V2: req.Version >= 5})
	return Result{Wait: func() kmsg.Response {
		o := wait()
		resp.ErrorCode = txnErrorCode(o.Err, req.Version, 2)
		if o.Err == nil && req.Version >= 5 {
			resp.ProducerID, resp.ProducerEpoch = o.ProducerID, o.Epoch
		}
		return resp
	}}
}
