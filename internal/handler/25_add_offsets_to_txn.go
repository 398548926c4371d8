package handler

// AddOffsetsToTxn, v0-4.
//
// Adds the group's partition of the offsets topic to the producer's
// transaction, so that the offsets its TxnOffsetCommit writes there are
// decided with the transaction (consume-process-produce, KIP-98). v2
// answers PRODUCER_FENCED where v0-1 answer INVALID_PRODUCER_EPOCH. v4
// tells the broker that the client knows TRANSACTION_ABORTABLE (KIP-890);
// nothing else changes, and as in Kafka this request is never answered it
// (it adds a partition, it does not verify one).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/topics"
	"sluice/internal/txn"
)

func init() { register(25, 0, 4, addOffsetsToTxn) }

func addOffsetsToTxn(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.AddOffsetsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	switch {
	case h.env.Txns == nil || h.env.Groups == nil:
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return ready(resp)
	case !h.authorized(ctx, acl.OpWrite, acl.ResourceTransactionalID, req.TransactionalID):
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return ready(resp)
	case req.Group == "":
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return ready(resp)
	case !h.authorized(ctx, acl.OpRead, acl.ResourceGroup, req.Group):
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return ready(resp)
	}
	tp := txn.TopicPartition{Topic: topics.OffsetsTopic, Partition: h.env.Groups.PartitionFor(req.Group)}
	wait := h.env.Txns.AddPartitions(req.TransactionalID, req.ProducerID, req.ProducerEpoch, []txn.TopicPartition{tp})
	return Result{Wait: func() kmsg.Response {
		resp.ErrorCode = txnErrorCode(wait().Err, req.Version, 2)
		return resp
	}}
}
