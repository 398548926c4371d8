package tests

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"sluice/internal/brokertest"
)

// KIP-890 part 1: a transactional batch for a partition outside the
// producer's ongoing transaction (never added, or the transaction already
// decided) is refused and nothing is written: no late or stray write can
// open a transaction that no marker closes. Produce v11 answers
// TRANSACTION_ABORTABLE (the producer aborts and carries on, unfenced),
// v3-10 INVALID_TXN_STATE, as Kafka does; v12 (transactions v2) adds the
// partition instead.
func TestTransactionalWriteOutsideTheTransactionIsRefused(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "stray")
	adm := newAdmin(t, b.Addr())
	createTopic(t, adm, topic, 1, nil)
	id := "stray-" + topic
	pid, epoch := initTxnRaw(t, b.Addr(), id)
	produce := func(version int16, seq int32) int16 {
		t.Helper()
		return produceRaw(t, b.Addr(), version, &id, topic, 0, txnBatch(pid, epoch, seq, "v")).ErrorCode
	}
	expect := func(what string, got, want int16) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: code %d, want %d", what, got, want)
		}
	}
	end := func() int64 {
		t.Helper()
		ends, err := adm.ListEndOffsets(testCtx(t, 10*time.Second), topic)
		o, _ := ends.Lookup(topic, 0)
		if err != nil || o.Err != nil {
			t.Fatalf("end offset: %v %v", err, o.Err)
		}
		return o.Offset
	}

	expect("never added, v10", produce(10, 0), kerr.InvalidTxnState.Code)
	expect("never added, v11", produce(11, 0), kerr.TransactionAbortable.Code)
	expect("never added, v3", produce(3, 0), kerr.InvalidTxnState.Code)
	r := produceRaw(t, b.Addr(), 10, &id, topic, 0, txnBatch(pid, epoch, 0, "v"))
	if want := "is not in an ongoing transaction of"; r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, want) {
		t.Fatalf("v10 error message %v, want one saying it %s", str2(r.ErrorMessage), want)
	}
	if o := end(); o != 0 {
		t.Fatalf("a refused batch was written: end offset %d", o)
	}

	expect("AddPartitionsToTxn v3", addPartitionRaw(t, b.Addr(), id, pid, epoch, topic, 0), 0)
	expect("added, v11", produce(11, 0), 0)

	commit := kmsg.NewPtrEndTxnRequest()
	commit.Version, commit.TransactionalID, commit.ProducerID, commit.ProducerEpoch, commit.Commit = 4, id, pid, epoch, true
	expect("EndTxn v4", roundTrip(t, b.Addr(), commit).(*kmsg.EndTxnResponse).ErrorCode, 0)
	waitTxnState(t, adm, id, "CompleteCommit")
	expect("after the commit, v11", produce(11, 1), kerr.TransactionAbortable.Code)
	expect("after the commit, v10", produce(10, 1), kerr.InvalidTxnState.Code)
	if o := end(); o != 2 {
		t.Fatalf("end offset %d, want 2 (the record and its commit marker)", o)
	}
	expect("transactions v2, v12", produce(12, 1), 0)
}

// TxnOffsetCommit follows the same rule for the group's offsets partition:
// without AddOffsetsToTxn, TRANSACTION_ABORTABLE from v4, INVALID_TXN_STATE
// before; v5 (transactions v2) adds the partition itself.
func TestTxnOffsetCommitOutsideTheTransactionIsRefused(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "txoc")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
	id := "txoc-" + topic
	pid, epoch := initTxnRaw(t, b.Addr(), id)
	commit := func(version int16) int16 {
		t.Helper()
		req := kmsg.NewPtrTxnOffsetCommitRequest()
		req.Version, req.TransactionalID, req.Group = version, id, "g-"+topic
		req.ProducerID, req.ProducerEpoch, req.Generation = pid, epoch, -1
		rt := kmsg.NewTxnOffsetCommitRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = 0, 5
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return roundTrip(t, b.Addr(), req).(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
	}
	for _, c := range []struct {
		version int16
		want    int16
	}{
		{0, kerr.InvalidTxnState.Code},
		{3, kerr.InvalidTxnState.Code},
		{4, kerr.TransactionAbortable.Code},
		{5, 0},
	} {
		if got := commit(c.version); got != c.want {
			t.Fatalf("TxnOffsetCommit v%d outside the transaction: code %d, want %d", c.version, got, c.want)
		}
	}
}

// franz-go at the versions of a transactions-v1 cluster with KIP-890 part
// 1 (Produce v11, EndTxn v4, TxnOffsetCommit v4; at v12 the broker adds
// partitions itself, so no write is ever outside the transaction) meets
// TRANSACTION_ABORTABLE when its transaction is decided while it still has
// a write to send: here another client ends it with the producer's own id
// and epoch. franz-go fails that write with the error, aborts, and commits
// its next transaction with the same producer id and epoch: it was not
// fenced.
func TestFranzGoAbortsAndCarriesOnAfterTransactionAbortable(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "abortable")
	adm := newAdmin(t, b.Addr())
	createTopic(t, adm, topic, 1, nil)
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(0, 11) // Produce
	versions.SetMaxKeyVersion(26, 4) // EndTxn
	versions.SetMaxKeyVersion(28, 4) // TxnOffsetCommit
	id := "abortable-" + topic
	cl := newClient(t, b.Addr(), kgo.TransactionalID(id), kgo.DefaultProduceTopic(topic),
		kgo.MaxVersions(versions), kgo.TransactionTimeout(30*time.Second))
	ctx := testCtx(t, 30*time.Second)

	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("first")}).FirstErr(); err != nil {
		t.Fatalf("first write: %v", err)
	}
	before, err := adm.DescribeTransactions(ctx, id)
	if err != nil || before[id].State != "Ongoing" {
		t.Fatalf("describe: %+v %v", before, err)
	}
	pid, epoch := before[id].ProducerID, before[id].ProducerEpoch

	abort := kmsg.NewPtrEndTxnRequest()
	abort.Version, abort.TransactionalID, abort.ProducerID, abort.ProducerEpoch = 4, id, pid, epoch
	if code := roundTrip(t, b.Addr(), abort).(*kmsg.EndTxnResponse).ErrorCode; code != 0 {
		t.Fatalf("abort behind the producer's back: code %d", code)
	}
	waitTxnState(t, adm, id, "CompleteAbort")

	err = cl.ProduceSync(ctx, &kgo.Record{Value: []byte("second")}).FirstErr()
	if !errors.Is(err, kerr.TransactionAbortable) {
		t.Fatalf("write into the decided transaction: %v, want TRANSACTION_ABORTABLE", err)
	}
	if err := cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatalf("abort after TRANSACTION_ABORTABLE: %v", err)
	}
	produceTxnValues(t, cl, "third")
	waitTxnState(t, adm, id, "CompleteCommit")

	after, err := adm.DescribeTransactions(ctx, id)
	if d := after[id]; err != nil || d.State != "CompleteCommit" || d.ProducerID != pid || d.ProducerEpoch != epoch {
		t.Fatalf("after the next transaction: %+v %v, want CompleteCommit with producer %d epoch %d", d, err, pid, epoch)
	}
	committed := consumeN(t, b.Addr(), topic, 1, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	all := consumeN(t, b.Addr(), topic, 2, kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	if string(committed[0].Value) != "third" || string(all[0].Value) != "first" || string(all[1].Value) != "third" {
		t.Fatalf("read_committed %q, log %q %q: want third; first (aborted), third", committed[0].Value, all[0].Value, all[1].Value)
	}
}
