package handler

import (
	"fmt"
	"time"

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
// closes, holding back the last stable offset for ever. Such a write is
// TRANSACTION_ABORTABLE from v11 (the producer aborts and goes on) and
// INVALID_TXN_STATE before; a stale epoch is INVALID_PRODUCER_EPOCH, as
// Produce answers at every version; a transaction being decided is
// NOT_ENOUGH_REPLICAS before v12, a code older clients retry, as Kafka
// answers a verification it could not complete. From v12 (transactions
// v2) the partition joins the transaction on its first batch instead
// (KIP-890 part 2).
func (h *Handler) checkTxnBatch(b recordbatch.Batch, req *kmsg.ProduceRequest, topic string, part int32) *refusal {
	switch {
	case b.IsControl():
		code := kerr.InvalidRecord.Code
		if req.Version < 8 {
			code = kerr.CorruptMessage.Code
		}
		return refused(code, "control batches (transaction markers) are written by the transaction coordinator, not by producers")
	case !b.IsTransactional():
		return nil
	case req.TransactionID == nil || *req.TransactionID == "" || h.env.Txns == nil:
		return refused(kerr.InvalidTxnState.Code, "a transactional batch needs the request's transactional id")
	}
	id, pid, epoch := *req.TransactionID, b.ProducerID(), b.ProducerEpoch()
	err := h.joinTxn(id, pid, epoch, []txn.TopicPartition{{Topic: topic, Partition: part}}, req.Version >= 12)
	switch {
	case err == nil:
		return nil
	case err == kerr.ConcurrentTransactions && req.Version < 12:
		return refused(kerr.NotEnoughReplicas.Code, "could not check that %s-%d is in the transaction of %q: it is being committed or aborted (CONCURRENT_TRANSACTIONS); retry",
			topic, part, id)
	}
	return refused(verifyErrorCode(err, req.Version, abortableProduceVersion), "%s", txnRefusalReason(err, id, pid, epoch, topic, part))
}

// txnRefusalReason says in words why a transactional batch was refused.
func txnRefusalReason(err *kerr.Error, id string, pid int64, epoch int16, topic string, part int32) string {
	switch err {
	case kerr.TransactionAbortable:
		return fmt.Sprintf("%s-%d is not in an ongoing transaction of %q (producer %d, epoch %d); the write may belong to a transaction already decided",
			topic, part, id, pid, epoch)
	case kerr.ProducerFenced:
		return fmt.Sprintf("epoch %d of producer %d is not the current epoch of %q", epoch, pid, id)
	case kerr.InvalidProducerIDMapping:
		return fmt.Sprintf("producer %d is not the producer of transactional id %q", pid, id)
	}
	return fmt.Sprintf("the transaction coordinator refused the write: %s", err.Message)
}

// joinTxn checks that tp is in the producer's ongoing transaction, or,
// with add (the transactions v2 request versions), adds it durably first,
// starting the transaction if none is ongoing.
func (h *Handler) joinTxn(id string, pid int64, epoch int16, tps []txn.TopicPartition, add bool) *kerr.Error {
	if !add {
		return h.env.Txns.Verify(id, pid, epoch, tps)
	}
	if h.env.Txns.Verify(id, pid, epoch, tps) == nil {
		return nil // already in: nothing to write
	}
	// A v2 client starts its next transaction as soon as EndTxn answers,
	// while the markers of the last one may still be being written. Wait
	// for them here rather than answer CONCURRENT_TRANSACTIONS, which
	// clients back off from for as long as a metadata refresh.
	deadline := time.NewTimer(joinTxnWait)
	defer deadline.Stop()
	for {
		changed := h.env.Txns.Changed(id)
		err := h.env.Txns.AddPartitions(id, pid, epoch, tps)().Err
		if err != kerr.ConcurrentTransactions {
			return err
		}
		select {
		case <-changed:
		case <-deadline.C:
			return err
		case <-h.env.Ctx.Done():
			return err
		}
	}
}

// joinTxnWait bounds how long a transactions-v2 request waits for the
// previous transaction of its producer to complete.
const joinTxnWait = 5 * time.Second

// addTxnPartitions adds, in one durable write, every partition of a
// transactions-v2 Produce request that carries a transactional batch, so
// that a request to several partitions costs the transaction log one
// record, not one each; the per-batch checks then find them added. An
// error is left for those checks to report per partition.
func (h *Handler) addTxnPartitions(req *kmsg.ProduceRequest) {
	if req.Version < 12 || req.TransactionID == nil || h.env.Txns == nil {
		return
	}
	var tps []txn.TopicPartition
	pid, epoch := int64(-1), int16(-1)
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			if len(rp.Records) < recordbatch.HeaderSize {
				continue
			}
			b := recordbatch.Batch(rp.Records)
			if !b.IsTransactional() || b.IsControl() || (pid >= 0 && (b.ProducerID() != pid || b.ProducerEpoch() != epoch)) {
				continue
			}
			pid, epoch = b.ProducerID(), b.ProducerEpoch()
			tps = append(tps, txn.TopicPartition{Topic: rt.Topic, Partition: rp.Partition})
		}
	}
	if len(tps) > 1 {
		h.joinTxn(*req.TransactionID, pid, epoch, tps, true)
	}
}
