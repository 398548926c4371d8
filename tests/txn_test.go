package tests

import (
	"context"
	"encoding/binary"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
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
	// franz-go runs transactions v2 against Sluice (KIP-890 part 2): each
	// EndTxn bumped the epoch, and the partitions joined by produce alone.
	waitTxnState(t, newAdmin(t, b.Addr()), "txn-"+topic, "CompleteCommit")
	described, err := newAdmin(t, b.Addr()).DescribeTransactions(testCtx(t, 10*time.Second), "txn-"+topic)
	if d, ok := described["txn-"+topic]; err != nil || !ok || d.ProducerEpoch != 3 || d.State != "CompleteCommit" {
		t.Fatalf("after three transactions: %+v %v, want epoch 3 (one bump per EndTxn v5)", described, err)
	}

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
}

// Zombie fencing: a second producer with the same transactional.id fences
// the first. The first one's open transaction is aborted, its later
// writes and its commit are refused, and none of its records is ever
// visible to read_committed readers.
func TestTransactionalZombieIsFenced(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "zombie")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
	id := "zombie-" + topic
	opts := []kgo.Opt{kgo.TransactionalID(id), kgo.DefaultProduceTopic(topic), kgo.TransactionTimeout(30 * time.Second)}
	ctx := testCtx(t, 60*time.Second)

	old := newClient(t, b.Addr(), opts...)
	if err := old.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := old.ProduceSync(ctx, &kgo.Record{Value: []byte("zombie-1")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	fresh := newClient(t, b.Addr(), opts...)
	if err := fresh.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := fresh.ProduceSync(ctx, &kgo.Record{Value: []byte("fresh-1")}).FirstErr(); err != nil {
		t.Fatalf("fresh producer: %v", err)
	}

	if err := old.ProduceSync(ctx, &kgo.Record{Value: []byte("zombie-2")}).FirstErr(); err == nil {
		t.Fatal("the fenced producer's write was accepted")
	}
	if err := old.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Fatal("the fenced producer's commit was accepted")
	}
	if err := fresh.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("fresh commit: %v", err)
	}
	recs := consumeN(t, b.Addr(), topic, 1, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if string(recs[0].Value) != "fresh-1" {
		t.Fatalf("read_committed saw %q", recs[0].Value)
	}
	all := consumeN(t, b.Addr(), topic, 2, kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	if string(all[0].Value) != "zombie-1" || string(all[1].Value) != "fresh-1" {
		t.Fatalf("log holds %q, %q", all[0].Value, all[1].Value)
	}
}

// An application restarted with its transactional id runs on: the new
// client starts before it knows of transactions v2 (its first EndTxn is
// v4, whose answer carries no epoch) while the id's last transaction was
// v2. The broker must not bump an epoch the client cannot see, or the
// client's switch to v2 (an InitProducerId with the epoch it knows) is
// fenced.
func TestRestartedTransactionalProducerRunsOn(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "restarted")
	createTopic(t, newAdmin(t, b.Addr()), topic, 3, nil)
	opts := []kgo.Opt{kgo.TransactionalID("restarted-" + topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.TransactionTimeout(30 * time.Second)}
	first := newClient(t, b.Addr(), opts...)
	for i := range 3 {
		produceTxn(t, first, topic, 3, i*10, 10, true)
	}
	first.Close()
	second := newClient(t, b.Addr(), opts...)
	for i := range 3 {
		produceTxn(t, second, topic, 3, 100+i*10, 10, true)
	}
	if got := len(consumeN(t, b.Addr(), topic, 180, kgo.FetchIsolationLevel(kgo.ReadCommitted()))); got != 180 {
		t.Fatalf("read_committed saw %d records, want 180", got)
	}
}

// transaction.timeout.ms: a producer that stops in the middle of a
// transaction is aborted by the coordinator; read_committed readers move
// past its records to what was committed after them, and its next request
// is fenced.
func TestStalledTransactionIsAbortedAfterItsTimeout(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "stall")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
	ctx := testCtx(t, 60*time.Second)

	stalled := newClient(t, b.Addr(), kgo.TransactionalID("stall-"+topic), kgo.DefaultProduceTopic(topic),
		kgo.TransactionTimeout(2*time.Second))
	if err := stalled.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := stalled.ProduceSync(ctx, &kgo.Record{Value: []byte("stalled")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// Committed after the stalled records: readable only once the
	// stalled transaction is decided.
	other := newClient(t, b.Addr(), kgo.TransactionalID("other-"+topic), kgo.DefaultProduceTopic(topic))
	produceTxnValues(t, other, "after")

	start := time.Now()
	recs := consumeN(t, b.Addr(), topic, 1, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if string(recs[0].Value) != "after" {
		t.Fatalf("read_committed saw %q", recs[0].Value)
	}
	if waited := time.Since(start); waited > 30*time.Second {
		t.Fatalf("the stalled transaction held readers for %v", waited)
	}
	if err := stalled.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Fatal("the timed-out producer committed")
	}
	if !strings.Contains(b.Log.String(), "aborting a transaction past its timeout") {
		t.Fatalf("the timeout abort was not logged:\n%s", b.Log.String())
	}
}

func produceTxnValues(t *testing.T, cl *kgo.Client, values ...string) {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
}

// Aborted data stays invisible to read_committed readers after a restart,
// clean or after a power loss, with segments rolled in between: the
// aborted-transaction index is durable with the markers.
func TestAbortedStaysAbortedAcrossRestarts(t *testing.T) {
	for _, crash := range []bool{false, true} {
		mem := vfs.NewMem()
		b := brokertest.Start(t, brokertest.WithFS(mem))
		topic := topicName(t, "restart")
		createTopic(t, newAdmin(t, b.Addr()), topic, 2, map[string]*string{"segment.bytes": sp("2048")})
		cl := newClient(t, b.Addr(), kgo.TransactionalID("restart-"+topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		for round := range 6 {
			produceTxn(t, cl, topic, 2, round*100, 5, round%2 == 0)
		}
		cl.Close()
		fsys := mem
		if crash {
			fsys = mem.CrashClone()
		}
		b.Close()
		after := brokertest.StartConfig(t, broker.Config{Listen: "127.0.0.1:0", DataDir: b.Cfg.DataDir, FS: fsys})
		recs := consumeN(t, after.Addr(), topic, 30, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		for _, r := range recs {
			if v := atoi(t, r.Value); (v/100)%2 != 0 {
				t.Fatalf("crash=%v: aborted record %d visible after the restart", crash, v)
			}
		}
	}
}

// librdkafka (kcat) at read_committed, its default: it drops the records
// of aborted transactions itself, from the list the fetch answer carries;
// at read_uncommitted it shows them.
func TestKcatReadCommitted(t *testing.T) {
	kcat := needTool(t, "kcat")
	b := brokertest.Start(t)
	topic := topicName(t, "kcatrc")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
	cl := newClient(t, b.Addr(), kgo.TransactionalID("kcat-"+topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produceTxn(t, cl, topic, 1, 0, 3, true)
	produceTxn(t, cl, topic, 1, 100, 3, false)
	produceTxn(t, cl, topic, 1, 200, 3, true)
	consume := func(level string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, kcat, "-b", b.Addr(), "-C", "-t", topic, "-o", "beginning", "-e", "-q",
			"-X", "isolation.level="+level).Output()
		if err != nil {
			t.Fatalf("kcat at %s: %v", level, err)
		}
		return strings.Join(strings.Fields(string(out)), " ")
	}
	if got := consume("read_committed"); got != "0 1 2 200 201 202" {
		t.Fatalf("kcat read_committed: %q", got)
	}
	if got := consume("read_uncommitted"); got != "0 1 2 100 101 102 200 201 202" {
		t.Fatalf("kcat read_uncommitted: %q", got)
	}
}

// Power loss at every fsync of a commit across three partitions: between
// the transaction's records and its prepare record, between the prepare
// record and the markers, between markers of different partitions, before
// the complete record, and after it (the complete record is written
// without an fsync of its own, so a power loss may take it). After the
// restart the transaction is committed or
// aborted as a whole on every partition, never half; and once EndTxn was
// answered, committed.
func TestPowerLossDuringCommitIsAllOrNothing(t *testing.T) {
	power := newSyncCloner()
	b := brokertest.Start(t, brokertest.WithFS(power.FS))
	topic := topicName(t, "powertxn")
	createTopic(t, newAdmin(t, b.Addr()), topic, 3, nil)
	txnID := "power-" + topic
	cl := newClient(t, b.Addr(), kgo.TransactionalID(txnID), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.TransactionTimeout(3*time.Second))
	ctx := testCtx(t, 30*time.Second)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for p := range int32(3) {
		for i := range 4 {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: val(int(p)*10 + i)})
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	power.arm(true)
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	answered := power.taken() // clones from here on were taken after EndTxn's answer
	waitTxnState(t, newAdmin(t, b.Addr()), txnID, "CompleteCommit")
	// The prepare record, then a marker on each partition: four fsyncs.
	// The complete record is applied unsynced; a power loss now takes it.
	all := power.all()
	if len(all)-1 < 4 {
		t.Fatalf("only %d fsyncs during the commit", len(all)-1)
	}
	b.Close()
	outcomes := map[bool]int{} // committed -> clones
	for i, clone := range all {
		after := brokertest.StartConfig(t, broker.Config{Listen: "127.0.0.1:0", DataDir: b.Cfg.DataDir, FS: clone})
		perPartition := visibleBeforeSentinels(t, after.Addr(), topic, 3)
		n := perPartition[0]
		for p, got := range perPartition {
			if got != n || (got != 0 && got != 4) {
				t.Fatalf("power loss at fsync %d: committed records per partition %v (partition %d)", i, perPartition, p)
			}
		}
		if i >= answered && n != 4 {
			t.Fatalf("power loss at fsync %d, after EndTxn was answered: committed records per partition %v", i, perPartition)
		}
		outcomes[n == 4]++
		after.Close()
	}
	if outcomes[false] == 0 || outcomes[true] == 0 {
		t.Fatalf("power losses gave %d aborted and %d committed outcomes over %d fsyncs; want both", outcomes[false], outcomes[true], len(all))
	}
	t.Logf("%d fsyncs: %d aborted, %d committed", len(all), outcomes[false], outcomes[true])
}

// waitTxnState waits until a transactional id is in state.
func waitTxnState(t *testing.T, adm *kadm.Client, id, state string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		described, err := adm.DescribeTransactions(testCtx(t, 10*time.Second), id)
		if err == nil {
			if d, ok := described[id]; ok && d.State == state {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %s: %v %v", id, state, described, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// visibleBeforeSentinels appends one plain record ("sentinel") to each
// partition, then reads the topic at read_committed until every sentinel
// arrived, and returns how many other records each partition showed: all
// that a read_committed reader can see, since the sentinels come last.
func visibleBeforeSentinels(t *testing.T, addr, topic string, partitions int32) map[int32]int {
	t.Helper()
	pr := newClient(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.AllISRAcks()))
	for p := range partitions {
		if err := pr.ProduceSync(testCtx(t, 30*time.Second), &kgo.Record{Topic: topic, Partition: p, Value: []byte("sentinel")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	counts := map[int32]int{}
	sentinels := 0
	ctx := testCtx(t, 60*time.Second)
	for sentinels < int(partitions) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d sentinels", sentinels, partitions)
		}
		for _, r := range fs.Records() {
			if string(r.Value) == "sentinel" {
				sentinels++
			} else {
				counts[r.Partition]++
			}
		}
	}
	for p := range partitions {
		counts[p] += 0
	}
	return counts
}

// An operator ends a transaction that holds readers back with standard
// admin tools: DescribeProducers shows the open transaction, and kadm's
// WriteTxnMarkers aborts it; read_committed readers move past it.
func TestAdminAbortsAnOpenTransaction(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "hang")
	adm := newAdmin(t, b.Addr())
	createTopic(t, adm, topic, 1, nil)
	ctx := testCtx(t, 30*time.Second)
	stuck := newClient(t, b.Addr(), kgo.TransactionalID("hang-"+topic), kgo.DefaultProduceTopic(topic))
	if err := stuck.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := stuck.ProduceSync(ctx, &kgo.Record{Value: []byte("stuck")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	plain := newClient(t, b.Addr(), kgo.DefaultProduceTopic(topic))
	if err := plain.ProduceSync(ctx, &kgo.Record{Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	described, err := adm.DescribeProducers(ctx, kadm.TopicsSet{topic: {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	var open *kadm.DescribedProducer
	described.EachProducer(func(p kadm.DescribedProducer) {
		if p.CurrentTxnStartOffset >= 0 {
			open = &p
		}
	})
	if open == nil || open.CurrentTxnStartOffset != 0 {
		t.Fatalf("DescribeProducers shows no open transaction at offset 0: %+v", described)
	}
	res, err := adm.WriteTxnMarkers(ctx, kadm.TxnMarkers{ProducerID: open.ProducerID, ProducerEpoch: open.ProducerEpoch,
		Commit: false, CoordinatorEpoch: open.CoordinatorEpoch, Topics: kadm.TopicsSet{topic: {0: {}}}})
	if err != nil {
		t.Fatal(err)
	}
	res.EachPartition(func(p kadm.TxnMarkersPartitionResponse) {
		if p.Err != nil {
			t.Fatalf("write marker: %v", p.Err)
		}
	})
	recs := consumeN(t, b.Addr(), topic, 1, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if string(recs[0].Value) != "after" {
		t.Fatalf("read_committed after the admin abort: %q", recs[0].Value)
	}
}

// KAFKA-17754, the late EndTxn: a commit request delayed in the network
// arrives after its retry succeeded and the producer began its next
// transaction. Under transactions v2 it carries the epoch before the
// commit's bump, so it cannot decide the new transaction: the new
// transaction stays open, and its records never become visible until its
// own decision (here an abort, so never).
func TestLateEndTxnCannotDecideTheNextTransaction(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "late")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
	cl := newClient(t, b.Addr())
	ctx := testCtx(t, 30*time.Second)
	id := "late-" + topic
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = &id, 60000
	ir, err := init.RequestWith(ctx, cl)
	if err != nil || ir.ErrorCode != 0 {
		t.Fatalf("init: %v %+v", err, ir)
	}
	pid := ir.ProducerID
	produce := func(epoch int16, value string) {
		t.Helper()
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis, req.TransactionID = 12, -1, 5000, &id
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = recordbatch.BuildTxn(nil, []recordbatch.Record{{Value: []byte(value)}}, time.Now().UnixMilli(), pid, epoch)
		binary.BigEndian.PutUint32(rp.Records[53:], 0) // first sequence of the epoch
		binary.BigEndian.PutUint32(rp.Records[17:], recordbatch.Batch(rp.Records).ComputeCRC())
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil || resp.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("produce %q at epoch %d: %v %+v", value, epoch, err, resp)
		}
	}
	end := func(epoch int16, commit bool) *kmsg.EndTxnResponse {
		t.Helper()
		req := kmsg.NewPtrEndTxnRequest()
		req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = 5, id, pid, epoch, commit
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	produce(0, "first")
	if r := end(0, true); r.ErrorCode != 0 || r.ProducerEpoch != 1 {
		t.Fatalf("commit: %+v, want the epoch bumped to 1", r)
	}
	waitTxnState(t, newAdmin(t, b.Addr()), id, "CompleteCommit")
	produce(1, "second") // the next transaction, begun by the producer
	if r := end(0, true); r.ErrorCode != kerr.ProducerFenced.Code {
		t.Fatalf("the late commit: %+v, want PRODUCER_FENCED (it belongs to a decided transaction)", r)
	}
	described, err := newAdmin(t, b.Addr()).DescribeTransactions(ctx, id)
	if d := described[id]; err != nil || d.State != "Ongoing" || d.ProducerEpoch != 1 {
		t.Fatalf("after the late commit: %+v %v, want the second transaction still ongoing", d, err)
	}
	if r := end(1, false); r.ErrorCode != 0 {
		t.Fatalf("abort of the second transaction: %+v", r)
	}
	recs := consumeN(t, b.Addr(), topic, 1, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if string(recs[0].Value) != "first" {
		t.Fatalf("read_committed: %q", recs[0].Value)
	}
}

// While a transaction is open, a read_committed reader stops before its
// first record (ListOffsets at read_committed answers that offset) and a
// read_uncommitted one reads on; the commit moves both to the end.
func TestReadersStopAtTheOpenTransaction(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "open")
	adm := newAdmin(t, b.Addr())
	createTopic(t, adm, topic, 1, nil)
	ctx := testCtx(t, 30*time.Second)
	plain := newClient(t, b.Addr(), kgo.DefaultProduceTopic(topic))
	for _, v := range []string{"p0", "p1"} {
		if err := plain.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	tx := newClient(t, b.Addr(), kgo.TransactionalID("open-"+topic), kgo.DefaultProduceTopic(topic))
	if err := tx.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := tx.ProduceSync(ctx, &kgo.Record{Value: []byte("t0")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := plain.ProduceSync(ctx, &kgo.Record{Value: []byte("p2")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	lso, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	hw, _ := adm.ListEndOffsets(ctx, topic)
	if o, _ := lso.Lookup(topic, 0); o.Offset != 2 {
		t.Fatalf("read_committed end offset %d, want 2 (the open transaction's first offset)", o.Offset)
	}
	if o, _ := hw.Lookup(topic, 0); o.Offset != 4 {
		t.Fatalf("high watermark %d, want 4", o.Offset)
	}
	if got := consumeN(t, b.Addr(), topic, 4, kgo.FetchIsolationLevel(kgo.ReadUncommitted())); string(got[3].Value) != "p2" {
		t.Fatalf("read_uncommitted: %q", got[3].Value)
	}
	if got := consumeN(t, b.Addr(), topic, 2, kgo.FetchIsolationLevel(kgo.ReadCommitted())); string(got[1].Value) != "p1" {
		t.Fatalf("read_committed before the commit: %q", got[1].Value)
	}
	if err := tx.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	waitTxnState(t, adm, "open-"+topic, "CompleteCommit")
	if got := consumeN(t, b.Addr(), topic, 4, kgo.FetchIsolationLevel(kgo.ReadCommitted())); string(got[2].Value) != "t0" || string(got[3].Value) != "p2" {
		t.Fatalf("read_committed after the commit: %q %q", got[2].Value, got[3].Value)
	}
}

// ListOffsets at read_committed bounds timestamp lookups by the last
// stable offset too: a record of an open transaction is not found by its
// timestamp, though a read_uncommitted lookup finds it.
func TestTimestampLookupStopsAtTheOpenTransaction(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "tslso")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
	ctx := testCtx(t, 30*time.Second)
	tx := newClient(t, b.Addr(), kgo.TransactionalID("ts-"+topic), kgo.DefaultProduceTopic(topic))
	if err := tx.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := tx.ProduceSync(ctx, &kgo.Record{Value: []byte("open"), Timestamp: time.UnixMilli(5000)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	lookup := func(level int8) int64 {
		req := kmsg.NewPtrListOffsetsRequest()
		req.IsolationLevel = level
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = 1000
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, newClient(t, b.Addr()))
		if err != nil || resp.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("list offsets: %v %+v", err, resp)
		}
		return resp.Topics[0].Partitions[0].Offset
	}
	if got := lookup(0); got != 0 {
		t.Fatalf("read_uncommitted lookup: %d, want 0", got)
	}
	if got := lookup(1); got != -1 {
		t.Fatalf("read_committed lookup: %d, want -1 (the record is in an open transaction)", got)
	}
}

// The transaction-state topic's partition count is chosen once: a broker
// started with one partition keeps it at a restart that asks for another
// count (ids map to partitions by hash, so changing it would lose them),
// and transactions work on it.
func TestTxnStatePartitionsFixedOnceCreated(t *testing.T) {
	b := brokertest.Start(t, func(c *broker.Config) { c.TxnStatePartitions = 1 })
	commitOne := func(addr, topic string) {
		cl := newClient(t, addr, kgo.TransactionalID("parts-"+topic), kgo.DefaultProduceTopic(topic))
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(testCtx(t, 30*time.Second), &kgo.Record{Value: val(1)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(testCtx(t, 30*time.Second), kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
		cl.Close()
	}
	partitions := func(addr string) int {
		topics, err := newAdmin(t, addr).ListTopicsWithInternal(testCtx(t, 10*time.Second), "__transaction_state")
		if err != nil {
			t.Fatal(err)
		}
		return len(topics["__transaction_state"].Partitions)
	}
	topic := topicName(t, "txnparts")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
	commitOne(b.Addr(), topic)
	if got := partitions(b.Addr()); got != 1 {
		t.Fatalf("__transaction_state has %d partitions, want 1", got)
	}
	b.Close()
	cfg := b.Cfg
	cfg.TxnStatePartitions = 16
	after := brokertest.StartConfig(t, cfg)
	if got := partitions(after.Addr()); got != 1 {
		t.Fatalf("after a restart asking for 16: %d partitions, want 1", got)
	}
	commitOne(after.Addr(), topic)
}

// A marker carries the coordinator epoch: the leader epoch of the
// transaction-state partition that decided it, which a restart moves on,
// so markers written after a restart can be told from earlier ones.
func TestMarkersCarryTheCoordinatorsEpoch(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "coordepoch")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
	commit := func(addr string, v int) {
		cl := newClient(t, addr, kgo.TransactionalID("coordepoch-"+topic), kgo.DefaultProduceTopic(topic))
		defer cl.Close()
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(testCtx(t, 30*time.Second), &kgo.Record{Value: val(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(testCtx(t, 30*time.Second), kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
	}
	commit(b.Addr(), 1)
	waitTxnState(t, newAdmin(t, b.Addr()), "coordepoch-"+topic, "CompleteCommit") // its marker is written
	b.Close()
	after := brokertest.StartConfig(t, b.Cfg)
	commit(after.Addr(), 2)
	recs := consumeN(t, after.Addr(), topic, 4, kgo.KeepControlRecords())
	var epochs []int32
	for _, r := range recs {
		if !r.Attrs.IsControl() {
			continue
		}
		if len(r.Value) != 6 {
			t.Fatalf("marker value of %d bytes", len(r.Value))
		}
		epochs = append(epochs, int32(binary.BigEndian.Uint32(r.Value[2:])))
	}
	if len(epochs) != 2 || epochs[1] <= epochs[0] {
		t.Fatalf("coordinator epochs of the two markers %v: want two, the second after the restart higher", epochs)
	}
}
