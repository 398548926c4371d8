package handler

// AddPartitionsToTxn, v0-3.
//
// Adds partitions to the producer's transaction, starting it if none is
// ongoing, durably before the answer. Every partition gets the same code;
// when one does not exist, it gets UNKNOWN_TOPIC_OR_PARTITION and the
// others OPERATION_NOT_ATTEMPTED, and nothing is added. v2 answers
// PRODUCER_FENCED where v0-1 answer INVALID_PRODUCER_EPOCH (KIP-588). The
// batched, verify-only form of v4+ (KIP-890, broker to broker) is not
// offered yet.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/txn"
)

func init() { register(24, 0, 3, addPartitionsToTxn) }

func addPartitionsToTxn(h *Handler, _ context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.AddPartitionsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	var tps []txn.TopicPartition
	missing := false
	for _, rt := range req.Topics {
		for _, p := range rt.Partitions {
			tps = append(tps, txn.TopicPartition{Topic: rt.Topic, Partition: p})
			if h.env.Topics.Partition(rt.Topic, p) == nil {
				missing = true
			}
		}
	}
	answer := func(code func(txn.TopicPartition) int16) kmsg.Response {
		for _, rt := range req.Topics {
			st := kmsg.NewAddPartitionsToTxnResponseTopic()
			st.Topic = rt.Topic
			for _, p := range rt.Partitions {
				sp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				sp.Partition, sp.ErrorCode = p, code(txn.TopicPartition{Topic: rt.Topic, Partition: p})
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	}
	if h.env.Txns == nil {
		return ready(answer(func(txn.TopicPartition) int16 { return kerr.CoordinatorNotAvailable.Code }))
	}
	if missing {
		return ready(answer(func(tp txn.TopicPartition) int16 {
			if h.env.Topics.Partition(tp.Topic, tp.Partition) == nil {
				return kerr.UnknownTopicOrPartition.Code
			}
			return kerr.OperationNotAttempted.Code
		}))
	}
	wait := h.env.Txns.AddPartitions(req.TransactionalID, req.ProducerID, req.ProducerEpoch, tps)
	return Result{Wait: func() kmsg.Response {
		code := txnErrorCode(wait().Err, req.Version, 2)
		return answer(func(txn.TopicPartition) int16 { return code })
	}}
}
