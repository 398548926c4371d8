package tests

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/brokertest"
)

// produceTxn writes n records to each partition of topic in one
// transaction and commits or aborts it.
func produceTxn(t *testing.T, cl *kgo.Client, topic string, partitions int32, first, n int, commit bool) {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatalf("begin: %v", err)
	}
	var recs []*kgo.Record
	for p := range partitions {
		for i := range n {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: val(first + i)})
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatalf("end (commit=%v): %v", commit, err)
	}
}

// Commit and abort across 3 partitions: read_committed sees exactly the
// committed records, in order; read_uncommitted sees every record.
func TestTransactionsCommitAndAbort(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "txn")
	createTopic(t, newAdmin(t, b.Addr()), topic, 3, nil)
	cl := newClient(t, b.Addr(), kgo.TransactionalID("txn-"+topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.TransactionTimeout(30*time.Second))
	produceTxn(t, cl, topic, 3, 0, 10, true)
	produceTxn(t, cl, topic, 3, 100, 10, false)
	produceTxn(t, cl, topic, 3, 200, 10, true)

	committed := consumeN(t, b.Addr(), topic, 60, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	perPartition := map[int32][]int{}
	for _, r := range committed {
		perPartition[r.Partition] = append(perPartition[r.Partition], atoi(t, r.Value))
	}
	for p := range int32(3) {
		got := perPartition[p]
		if len(got) != 20 {
			t.Fatalf("partition %d: %d committed records, want 20: %v", p, len(got), got)
		}
		for i, v := range got {
			want := i
			if i >= 10 {
				want = 200 + i - 10
			}
			if v != want {
				t.Fatalf("partition %d: record %d is %d, want %d (aborted data visible?)", p, i, v, want)
			}
		}
	}
	all := consumeN(t, b.Addr(), topic, 90, kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	if len(all) != 90 {
		t.Fatalf("read_uncommitted saw %d records", len(all))
	}
	_ = fmt.Sprint
	_ = context.Background
}
