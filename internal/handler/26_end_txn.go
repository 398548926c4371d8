package handler

// EndTxn, v0-4.
//
// Commits or aborts the producer's transaction. The decision (the
// PrepareCommit or PrepareAbort record) is durable before the answer; the
// markers are written to every partition of the transaction afterwards,
// and until they are, the id answers CONCURRENT_TRANSACTIONS. A retry of
// the decided transaction succeeds; the opposite decision gets
// INVALID_TXN_STATE. v2 answers PRODUCER_FENCED where v0-1 answer
// INVALID_PRODUCER_EPOCH.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/txn"
)

func init() { register(26, 0, 4, endTxn) }

func endTxn(h *Handler, _ context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.EndTxnRequest)
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
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
