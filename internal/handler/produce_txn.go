package handler

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/recordbatch"
	"sluice/internal/txn"
)

// checkTxnBatch applies the transaction rules of Produce to one batch. A
// control batch is refused: markers are written by the coordinator only
// (INVALID_RECORD, or CORRUPT_MESSAGE before v8 knew it). A transactional
// batch must name its transactional id, and its partition must already be
// in the producer's ongoing transaction with its current epoch (KIP-890
// part 1): a late write of a transaction that was decided, or a write to a
// partition never added, would otherwise open a transaction no marker
// closes, holding back the last stable offset for ever. A stale epoch is
// INVALID_PRODUCER_EPOCH, as Produce answers at every version.
func (h *Handler) checkTxnBatch(b recordbatch.Batch, req *kmsg.ProduceRequest, topic string, partition int32) int16 {
	switch {
	case b.IsControl() && req.Version >= 8:
		return kerr.InvalidRecord.Code
	case b.IsControl():
		return kerr.CorruptMessage.Code
	case !b.IsTransactional():
		return 0
	case req.TransactionID == nil || *req.TransactionID == "" || h.env.Txns == nil:
		return kerr.InvalidTxnState.Code
	}
	err := h.env.Txns.Verify(*req.TransactionID, b.ProducerID(), b.ProducerEpoch(), []txn.TopicPartition{{Topic: topic, Partition: partition}})
	switch err {
	case nil:
		return 0
	case kerr.ProducerFenced:
		return kerr.InvalidProducerEpoch.Code
	}
	return err.Code
}
