package tests

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/brokertest"
)

// apTxn is one transaction of an AddPartitionsToTxn v4+ request.
func apTxn(id string, pid int64, epoch int16, verifyOnly bool, topics ...kmsg.AddPartitionsToTxnRequestTransactionTopic) kmsg.AddPartitionsToTxnRequestTransaction {
	t := kmsg.NewAddPartitionsToTxnRequestTransaction()
	t.TransactionalID, t.ProducerID, t.ProducerEpoch, t.VerifyOnly, t.Topics = id, pid, epoch, verifyOnly, topics
	return t
}

func apTopic(topic string, partitions ...int32) kmsg.AddPartitionsToTxnRequestTransactionTopic {
	t := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	t.Topic, t.Partitions = topic, partitions
	return t
}

// addPartitionsBatched sends the transactions in one request at version
// and returns, per transaction in response order, "id: topic-p=code ...".
func addPartitionsBatched(t *testing.T, addr string, version int16, txns ...kmsg.AddPartitionsToTxnRequestTransaction) []string {
	t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version, req.Transactions = version, txns
	resp := roundTrip(t, addr, req).(*kmsg.AddPartitionsToTxnResponse)
	if resp.ErrorCode != 0 || len(resp.Topics) != 0 {
		t.Fatalf("v%d: top-level code %d, v3 topics %v", version, resp.ErrorCode, resp.Topics)
	}
	var out []string
	for _, r := range resp.Transactions {
		s := r.TransactionalID + ":"
		for _, rt := range r.Topics {
			for _, rp := range rt.Partitions {
				s += fmt.Sprintf(" %s-%d=%d", rt.Topic, rp.Partition, rp.ErrorCode)
			}
		}
		out = append(out, s)
	}
	return out
}

// AddPartitionsToTxn v4/v5 (KIP-890 part 1), the form a partition leader
// sends the coordinator: several transactions in one request, each
// answered in request order. VerifyOnly checks without adding: a
// partition in the producer's ongoing transaction gets 0, one outside it
// TRANSACTION_ABORTABLE (also when nothing is ongoing), a wrong producer
// its error on every partition, a missing partition
// UNKNOWN_TOPIC_OR_PARTITION and the others of its transaction
// OPERATION_NOT_ATTEMPTED. Without VerifyOnly the partitions are added.
func TestAddPartitionsToTxnBatchedAndVerifyOnly(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	topic, other := topicName(t, "apt"), topicName(t, "apt-other")
	createTopic(t, adm, topic, 2, nil)
	createTopic(t, adm, other, 1, nil)
	ids := map[string]string{}
	pids := map[string]int64{}
	epochs := map[string]int16{}
	for _, n := range []string{"a", "b", "c"} {
		ids[n] = n + "-" + topic
		pids[n], epochs[n] = initTxnRaw(t, b.Addr(), ids[n])
	}
	// a has topic-0 in its ongoing transaction (the producers' v3 form).
	if code := addPartitionRaw(t, b.Addr(), ids["a"], pids["a"], epochs["a"], topic, 0); code != 0 {
		t.Fatalf("v3 add: code %d", code)
	}

	check := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
		}
	}
	abortable, fenced, mapping := kerr.TransactionAbortable.Code, kerr.ProducerFenced.Code, kerr.InvalidProducerIDMapping.Code
	for _, v := range []int16{4, 5} {
		check(fmt.Sprintf("verify-only v%d", v), addPartitionsBatched(t, b.Addr(), v,
			apTxn(ids["a"], pids["a"], epochs["a"], true, apTopic(topic, 0, 1)),
			apTxn(ids["b"], pids["b"], epochs["b"], true, apTopic(topic, 0)),
			apTxn(ids["c"], pids["c"], epochs["c"]+1, true, apTopic(topic, 0), apTopic(other, 0)),
			apTxn("nobody-"+topic, pids["a"], epochs["a"], true, apTopic(topic, 1)),
			apTxn(ids["a"], pids["a"], epochs["a"], true, apTopic(topic, 0, 9)),
		),
			fmt.Sprintf("%s: %s-0=0 %s-1=%d", ids["a"], topic, topic, abortable),
			fmt.Sprintf("%s: %s-0=%d", ids["b"], topic, abortable),
			fmt.Sprintf("%s: %s-0=%d %s-0=%d", ids["c"], topic, fenced, other, fenced),
			fmt.Sprintf("nobody-%s: %s-1=%d", topic, topic, mapping),
			fmt.Sprintf("%s: %s-0=%d %s-9=%d", ids["a"], topic, kerr.OperationNotAttempted.Code, topic, kerr.UnknownTopicOrPartition.Code),
		)
	}
	described, err := adm.DescribeTransactions(testCtx(t, 10*time.Second), ids["a"], ids["b"])
	if err != nil || len(described[ids["a"]].Topics[topic]) != 1 || described[ids["b"]].State != "Empty" {
		t.Fatalf("verify-only changed a transaction: %+v %v", described, err)
	}

	check("add v4", addPartitionsBatched(t, b.Addr(), 4,
		apTxn(ids["b"], pids["b"], epochs["b"], false, apTopic(topic, 1), apTopic(other, 0)),
		apTxn(ids["c"], pids["c"], epochs["c"]+1, false, apTopic(topic, 1)),
	),
		fmt.Sprintf("%s: %s-1=0 %s-0=0", ids["b"], topic, other),
		fmt.Sprintf("%s: %s-1=%d", ids["c"], topic, fenced),
	)
	check("verify after the add", addPartitionsBatched(t, b.Addr(), 5,
		apTxn(ids["b"], pids["b"], epochs["b"], true, apTopic(topic, 0, 1), apTopic(other, 0)),
	),
		fmt.Sprintf("%s: %s-0=%d %s-1=0 %s-0=0", ids["b"], topic, abortable, topic, other),
	)
	// The partition leader's use of it: b's transactional write to the
	// added partition is accepted at Produce v11.
	idB := ids["b"]
	if code := produceRaw(t, b.Addr(), 11, &idB, topic, 1, txnBatch(pids["b"], epochs["b"], 0, "v")).ErrorCode; code != 0 {
		t.Fatalf("produce to the added partition: code %d", code)
	}
}
