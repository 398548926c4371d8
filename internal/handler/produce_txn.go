package handler

import (
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/partition"
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
func (h *Handler) checkTxnBatch(b recordbatch.Batch, req *kmsg.ProduceRequest, topic string, part int32, joins *txnJoins) *refusal {
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
	tp := txn.TopicPartition{Topic: topic, Partition: part}
	if joins.covers(tp, pid, epoch) {
		return nil // the request's add of several partitions has it; its wait reports its fate
	}
	started := h.joinTxn(id, pid, epoch, []txn.TopicPartition{tp}, req.Version >= 12)
	err := started.Err
	if err == nil && !joins.keep(started, id, pid, epoch, []txn.TopicPartition{tp}) {
		err = started.Wait()
	}
	switch {
	case err == nil:
		return nil
	case err == kerr.ConcurrentTransactions && req.Version < 12:
		return refused(kerr.NotEnoughReplicas.Code, "could not check that %s-%d is in the transaction of %q: it is being committed or aborted (CONCURRENT_TRANSACTIONS); retry",
			topic, part, id)
	}
	return txnRefusal(err, req.Version, id, pid, epoch, topic, part)
}

// txnRefusal answers a transactional batch the coordinator would not take.
func txnRefusal(err *kerr.Error, version int16, id string, pid int64, epoch int16, topic string, part int32) *refusal {
	return refused(verifyErrorCode(err, version, abortableProduceVersion), "%s", txnRefusalReason(err, id, pid, epoch, topic, part))
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

// joinTxn checks that tps are in the producer's ongoing transaction, or,
// with add (the transactions v2 request versions), starts adding them,
// starting the transaction if none is ongoing. The add is appended but
// not yet durable: the caller waits for it, or syncs it with its own
// writes (txnJoins).
func (h *Handler) joinTxn(id string, pid int64, epoch int16, tps []txn.TopicPartition, add bool) txn.AddStarted {
	if !add {
		return txn.AddStarted{Err: h.env.Txns.Verify(id, pid, epoch, tps)}
	}
	if h.env.Txns.Verify(id, pid, epoch, tps) == nil {
		return txn.AddStarted{} // already in: nothing to write
	}
	// A v2 client starts its next transaction as soon as EndTxn answers,
	// while the markers of the last one may still be being written. Wait
	// for them here rather than answer CONCURRENT_TRANSACTIONS, which
	// clients back off from for as long as a metadata refresh.
	deadline := time.NewTimer(joinTxnWait)
	defer deadline.Stop()
	for {
		changed := h.env.Txns.Changed(id)
		started := h.env.Txns.StartAddPartitions(id, pid, epoch, tps)
		if started.Err != kerr.ConcurrentTransactions {
			return started
		}
		select {
		case <-changed:
		case <-deadline.C:
			return started
		case <-h.env.Ctx.Done():
			return started
		}
	}
}

// joinTxnWait bounds how long a transactions-v2 request waits for the
// previous transaction of its producer to complete.
const joinTxnWait = 5 * time.Second

// addTxnPartitions adds, in one write, every partition of a
// transactions-v2 Produce request that carries a transactional batch, so
// that a request to several partitions costs the transaction log one
// record, not one each; the per-batch checks then find them added, or
// covered by this add while it is pending. An error is left for those
// checks to report per partition.
func (h *Handler) addTxnPartitions(req *kmsg.ProduceRequest, joins *txnJoins, auth *topicAuth) {
	if req.Version < 12 || req.TransactionID == nil || h.env.Txns == nil {
		return
	}
	var tps []txn.TopicPartition
	pid, epoch := int64(-1), int16(-1)
	for _, rt := range req.Topics {
		if !auth.allowed(rt.Topic) {
			continue // answered TOPIC_AUTHORIZATION_FAILED: it joins nothing
		}
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
	if len(tps) < 2 {
		return
	}
	started := h.joinTxn(*req.TransactionID, pid, epoch, tps, true)
	if started.Err == nil && !joins.keep(started, *req.TransactionID, pid, epoch, tps) {
		started.Wait()
	}
}

// txnJoins is a produce request's adds to a transaction (transactions
// v2) that are appended to the transaction log but not yet durable. With
// acks=all the request appends its data at once and its wait syncs the
// adds in the same flush cycle as the data, then applies them: the add
// costs the producer no fsync in sequence before its data's. Other acks
// wait for each add before appending. The add is still durable before
// the producer hears of its write; a crash between the two syncs may
// keep the data without its add, which the broker's start reconciles
// (txn.Service.Reconcile).
type txnJoins struct {
	deferred bool // acks=all
	adds     txnAdds
}

// txnAdds are the adds a request kept, for its wait to sync and apply.
type txnAdds []txnJoin

// txnJoin is one started add and what it covers.
type txnJoin struct {
	started txn.AddStarted
	id      string
	pid     int64
	epoch   int16
	tps     []txn.TopicPartition
}

// keep takes a started add whose record was written, if the request
// defers its adds; false: the caller waits for it now.
func (j *txnJoins) keep(started txn.AddStarted, id string, pid int64, epoch int16, tps []txn.TopicPartition) bool {
	if started.Durable == nil {
		return true // nothing written: nothing to wait for
	}
	if !j.deferred {
		return false
	}
	j.adds = append(j.adds, txnJoin{started: started, id: id, pid: pid, epoch: epoch, tps: tps})
	return true
}

// covers reports whether a kept add covers tp for the same producer.
func (j *txnJoins) covers(tp txn.TopicPartition, pid int64, epoch int16) bool {
	for _, a := range j.adds {
		if a.pid == pid && a.epoch == epoch && slices.Contains(a.tps, tp) {
			return true
		}
	}
	return false
}

// durables is where each kept add must be synced to.
func (adds txnAdds) durables() []partition.Durable {
	ds := make([]partition.Durable, 0, len(adds))
	for _, a := range adds {
		ds = append(ds, *a.started.Durable)
	}
	return ds
}

// finish applies every kept add (each already durable if the flush cycle
// succeeded) and refuses the partitions of those that failed, although
// their data was appended: the producer retries, and the retry finds the
// partition not in the transaction.
func (adds txnAdds) finish(resp *kmsg.ProduceResponse, version int16) {
	for _, a := range adds {
		err := a.started.Wait()
		if err == nil {
			continue
		}
		for i := range resp.Topics {
			rt := &resp.Topics[i]
			for k := range rt.Partitions {
				sp := &rt.Partitions[k]
				if tp := (txn.TopicPartition{Topic: rt.Topic, Partition: sp.Partition}); slices.Contains(a.tps, tp) && sp.ErrorCode == 0 {
					txnRefusal(err, version, a.id, a.pid, a.epoch, tp.Topic, tp.Partition).answer(sp, version)
				}
			}
		}
	}
}

// abandon applies every kept add in the background when the request's
// wait will not run: until applied, the id's other requests wait.
func (adds txnAdds) abandon() {
	for _, a := range adds {
		go a.started.Wait()
	}
}
