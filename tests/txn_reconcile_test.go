package tests

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// A transactional produce (acks=all) syncs its data and the add of its
// partition to the transaction in one flush cycle, so a crash between the
// two syncs can keep the data and lose the add. The restart must give the
// partition back to the producer's transaction: otherwise the
// transaction's end writes no marker there, and the data holds
// read_committed readers back for ever. The state is made directly: the
// transaction's data written to the partition, with no add at all. A
// producer no transactional id holds is no lost add: its transaction is
// left hanging for an operator, never decided on a guess.
func TestRestartGivesLostAddsBackToTheirTransaction(t *testing.T) {
	mem := vfs.NewMem()
	b := brokertest.Start(t, brokertest.WithFS(mem))
	topic := topicName(t, "lostadd")
	createTopic(t, newAdmin(t, b.Addr()), topic, 2, nil)
	ctx := testCtx(t, 60*time.Second)
	id := "lostadd-" + topic
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = &id, 60000
	ir, err := init.RequestWith(ctx, newClient(t, b.Addr()))
	if err != nil || ir.ErrorCode != 0 {
		t.Fatalf("init: %v %+v", err, ir)
	}
	write := func(part int32, pid int64, epoch int16, values ...string) {
		t.Helper()
		var recs []recordbatch.Record
		for _, v := range values {
			recs = append(recs, recordbatch.Record{Value: []byte(v)})
		}
		batch := recordbatch.BuildTxn(nil, recs, time.Now().UnixMilli(), pid, epoch)
		binary.BigEndian.PutUint32(batch[53:], 0) // first sequence of the epoch
		binary.BigEndian.PutUint32(batch[17:], recordbatch.Batch(batch).ComputeCRC())
		p := b.Topics().Partition(topic, part)
		res, err := p.AppendAwaited(batch)
		if err == nil {
			err = p.WaitDurable(ctx, res.NextOffset)
		}
		if err != nil {
			t.Fatalf("write to partition %d: %v", part, err)
		}
	}
	write(0, ir.ProducerID, ir.ProducerEpoch, "a", "b", "c")
	write(1, 777_777, 0, "orphan") // a producer no id holds
	b.Close()

	after := brokertest.StartConfig(t, broker.Config{Listen: "127.0.0.1:0", DataDir: b.Cfg.DataDir, FS: mem.CrashClone()})
	adm := newAdmin(t, after.Addr())
	described, err := adm.DescribeTransactions(ctx, id)
	d, ok := described[id]
	if err != nil || !ok || d.State != "Ongoing" || d.ProducerID != ir.ProducerID || d.ProducerEpoch != ir.ProducerEpoch {
		t.Fatalf("after the restart: %+v %v, want the producer's transaction ongoing", described, err)
	}
	if _, has0 := d.Topics[topic][0]; len(d.Topics) != 1 || len(d.Topics[topic]) != 1 || !has0 {
		t.Fatalf("the transaction holds %v, want only %s-0", d.Topics, topic)
	}
	end := kmsg.NewPtrEndTxnRequest()
	end.Version, end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = 5, id, ir.ProducerID, ir.ProducerEpoch, true
	if er, err := end.RequestWith(ctx, newClient(t, after.Addr())); err != nil || er.ErrorCode != 0 {
		t.Fatalf("commit: %v %+v", err, er)
	}
	recs := consumeN(t, after.Addr(), topic, 3, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	for i, want := range []string{"a", "b", "c"} {
		if recs[i].Partition != 0 || string(recs[i].Value) != want {
			t.Fatalf("read_committed record %d: partition %d %q, want partition 0 %q", i, recs[i].Partition, recs[i].Value, want)
		}
	}
	lso, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := lso.Lookup(topic, 0); o.Offset != 4 { // three records and the marker
		t.Fatalf("partition 0's last stable offset is %d, want 4", o.Offset)
	}
	if o, _ := lso.Lookup(topic, 1); o.Offset != 0 {
		t.Fatalf("partition 1's last stable offset is %d, want 0: the orphan must hang until an operator aborts it", o.Offset)
	}
}

// Power loss at every fsync of a transactional produce to three
// partitions, where the data and the add of its partitions are synced in
// one flush cycle: after the restart, the producer's next session (its
// InitProducerId aborts whatever of the old transaction survived) commits
// a transaction of its own, and every partition's last stable offset
// reaches its high watermark: nothing of the old transaction hangs, and
// nothing of it becomes visible.
//
// With the journal (every batch through it: JournalBelow < 0) the add and
// the data are made durable by one fsync of it; without, by the syncs of
// the partitions' own files in parallel.
func TestPowerLossDuringTransactionalProduceLeavesNothingHanging(t *testing.T) {
	for _, journal := range []bool{true, false} {
		t.Run(fmt.Sprintf("journal=%v", journal), func(t *testing.T) { powerLossDuringTransactionalProduce(t, journal) })
	}
}

func powerLossDuringTransactionalProduce(t *testing.T, journal bool) {
	power := newSyncCloner()
	b := brokertest.Start(t, brokertest.WithFS(power.FS), brokertest.WithConfig(func(c *broker.Config) { c.Journal, c.JournalBelow = journal, -1 }))
	topic := topicName(t, "powerproduce")
	createTopic(t, newAdmin(t, b.Addr()), topic, 3, nil)
	id := "powerproduce-" + topic
	opts := []kgo.Opt{kgo.TransactionalID(id), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionTimeout(60 * time.Second)}
	cl := newClient(t, b.Addr(), opts...)
	ctx := testCtx(t, 60*time.Second)
	produceTxn(t, cl, topic, 3, 0, 2, true) // the producer knows transactions v2 from here on
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for p := range int32(3) {
		for i := range 4 {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: val(100 + int(p)*10 + i)})
		}
	}
	power.arm(true)
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	all := power.all()
	// Clones: one at each fsync, and one after the last.
	if want := map[bool]int{true: 1, false: 2}[journal]; len(all)-1 < want {
		t.Fatalf("only %d fsyncs during the produce, want %d or more", len(all)-1, want)
	}
	cl.Close()
	b.Close()
	for i, clone := range all {
		after := brokertest.StartConfig(t, broker.Config{Listen: "127.0.0.1:0", DataDir: b.Cfg.DataDir, FS: clone, Journal: journal, JournalBelow: -1})
		next := newClient(t, after.Addr(), opts...)
		produceTxn(t, next, topic, 3, 200, 1, true)
		next.Close()
		adm := newAdmin(t, after.Addr())
		waitTxnState(t, adm, id, "CompleteCommit") // its markers are written after EndTxn answers
		lso, err := adm.ListCommittedOffsets(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		hw, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		for p := range int32(3) {
			l, _ := lso.Lookup(topic, p)
			h, _ := hw.Lookup(topic, p)
			if l.Offset != h.Offset {
				t.Fatalf("power loss at fsync %d: partition %d's last stable offset %d is below its high watermark %d: a transaction hangs", i, p, l.Offset, h.Offset)
			}
		}
		perPartition := visibleBeforeSentinels(t, after.Addr(), topic, 3)
		for p, got := range perPartition {
			if got != 3 { // two of the first transaction, one of the last
				t.Fatalf("power loss at fsync %d: partition %d shows %d committed records, want 3 (the interrupted transaction's must not show)", i, p, got)
			}
		}
		after.Close()
	}
	t.Logf("%d power losses, nothing hanging", len(all))
}
