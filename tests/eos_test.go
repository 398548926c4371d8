package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/brokertest"
)

// The exactly-once pipeline (consume -> process -> produce, offsets in the
// transaction) with two workers in one group, one of them killed with
// SIGKILL three times mid-stream and restarted, with rebalances in
// between: the output, read committed, holds every input record exactly
// once, and the group's committed offsets equal the input's end.
func TestExactlyOncePipelineSurvivesWorkerKills(t *testing.T) {
	const n = 3000
	b, adm, in, out := pipelineTopics(t, "eos", 3, n)
	group := "eos-" + in
	bin := testBinary(t, "eosworker")
	start := func(name string) *brokertest.Child {
		return brokertest.StartChild(t, name, bin, "-brokers", b.Addr(), "-group", group, "-in", in, "-out", out, "-txn-id", group+"-"+name)
	}
	start("steady")
	deadline := time.After(3 * time.Minute)
	for round := range 3 {
		victim := start("victim")
		for commits := 0; commits < 2; { // let it commit, then kill it mid-stream
			if line := victim.Next(t, deadline); len(line) > 9 && line[:9] == "committed" {
				commits++
			}
		}
		victim.Kill()
		t.Logf("round %d: victim killed", round)
	}
	start("victim") // the last incarnation runs to the end with the steady one

	ends, err := adm.ListEndOffsets(testCtx(t, 10*time.Second), in)
	if err != nil {
		t.Fatal(err)
	}
	for {
		done := true
		fetched, err := adm.FetchOffsets(testCtx(t, 10*time.Second), group)
		if err != nil {
			t.Fatal(err)
		}
		ends.Each(func(e kadm.ListedOffset) {
			if c, ok := fetched.Lookup(in, e.Partition); !ok || c.At != e.Offset {
				done = false
			}
		})
		if done {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("committed offsets %v never reached the input's end %v", fetched, ends)
		case <-time.After(200 * time.Millisecond):
		}
	}

	got := consumeN(t, b.Addr(), out, n, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	seen := make(map[int]int, n)
	for _, r := range got {
		v, err := strconv.Atoi(string(r.Value))
		if err != nil {
			t.Fatal(err)
		}
		seen[v]++
	}
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("input record %d is in the output %d times", i, seen[i])
		}
	}
}

// The seeds' exactly-once loop in Python (confluent-kafka, librdkafka's
// transactional producer, send_offsets_to_transaction): every input
// record in the output exactly once, read committed, and the group's
// committed offsets at the input's end.
func TestPythonExactlyOnceLoop(t *testing.T) {
	py := semNeedPythonKafka(t)
	const n = 1000
	b, adm, in, out := pipelineTopics(t, "pyeos", 2, n)
	ends, err := adm.ListEndOffsets(testCtx(t, 10*time.Second), in)
	if err != nil {
		t.Fatal(err)
	}
	endList := make([]string, 2)
	ends.Each(func(o kadm.ListedOffset) { endList[o.Partition] = strconv.FormatInt(o.Offset, 10) })
	group := "pyeos-" + in
	w := brokertest.StartChild(t, "eos_worker.py", py, filepath.Join("testdata", "eos_worker.py"), b.Addr(), group, in, out, "py-"+group, strings.Join(endList, ","))
	w.Wait(t, 2*time.Minute)
	checkPipelineOutput(t, b, adm, group, in, out, n)
}

// sarama's transactional producer (Kafka 2.8 protocol versions): a
// consume-process-produce step with AddMessageToTxn (the consumed record's
// offset committed in the transaction), committed, then one aborted; a
// read_committed reader sees the committed output only, and the group's
// offset moved only with the commit.
func TestSaramaTransactions(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	in, out := topicName(t, "sar-in"), topicName(t, "sar-out")
	createTopic(t, adm, in, 1, nil)
	createTopic(t, adm, out, 1, nil)
	feed := newClient(t, b.Addr(), kgo.DefaultProduceTopic(in))
	if err := feed.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Value: []byte("a")}, &kgo.Record{Value: []byte("b")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Transaction.ID = "sarama-" + in
	cfg.Producer.Return.Successes = true
	cfg.Net.MaxOpenRequests = 1
	pr, err := sarama.NewSyncProducer([]string{b.Addr()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	group := "sarama-" + in
	step := func(input *sarama.ConsumerMessage, commit bool) {
		t.Helper()
		if err := pr.BeginTxn(); err != nil {
			t.Fatalf("begin: %v", err)
		}
		if _, _, err := pr.SendMessage(&sarama.ProducerMessage{Topic: out, Value: sarama.ByteEncoder(input.Value)}); err != nil {
			t.Fatalf("send: %v", err)
		}
		if err := pr.AddMessageToTxn(input, group, nil); err != nil {
			t.Fatalf("add offsets: %v", err)
		}
		end := pr.CommitTxn
		if !commit {
			end = pr.AbortTxn
		}
		if err := end(); err != nil {
			t.Fatalf("end (commit=%v): %v", commit, err)
		}
	}
	step(&sarama.ConsumerMessage{Topic: in, Partition: 0, Offset: 0, Value: []byte("a")}, true)
	step(&sarama.ConsumerMessage{Topic: in, Partition: 0, Offset: 1, Value: []byte("b")}, false)

	got := consumeN(t, b.Addr(), out, 1, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if string(got[0].Value) != "a" {
		t.Fatalf("read_committed output %q", got[0].Value)
	}
	// The aborted step's offset is pending until its abort marker reaches
	// the offsets partition, which may follow AbortTxn's answer.
	if c, ok := brokertest.StableCommitted(t, b.Addr(), group, in, 10*time.Second)[0]; !ok || c != 1 {
		t.Fatalf("group offset %d (committed: %v), want 1 (the aborted step must not move it)", c, ok)
	}
}

// pipelineTopics starts a broker with an input and an output topic of
// the given partitions, the input holding records 0..n-1 (key = value).
func pipelineTopics(t *testing.T, name string, partitions int32, n int) (b *brokertest.Broker, adm *kadm.Client, in, out string) {
	t.Helper()
	b = brokertest.Start(t)
	adm = newAdmin(t, b.Addr())
	in, out = topicName(t, name+"-in"), topicName(t, name+"-out")
	createTopic(t, adm, in, partitions, nil)
	createTopic(t, adm, out, partitions, nil)
	// Uncompressed: kafkajs reads snappy only with a plugin.
	cl := newClient(t, b.Addr(), kgo.DefaultProduceTopic(in), kgo.ProducerBatchCompression(kgo.NoCompression()))
	recs := make([]*kgo.Record, n)
	for i := range n {
		recs[i] = &kgo.Record{Key: val(i), Value: val(i)}
	}
	if err := cl.ProduceSync(testCtx(t, 60*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return b, adm, in, out
}

// kafkajs 2.2's transactional producer and read_committed consumer in the
// exactly-once loop (tests/kafkajs/eos.js; kafkajs is fenced by its epoch
// alone, its TxnOffsetCommit names no member): every input record in the
// output exactly once, and the group's committed offsets at the input's
// end.
func TestKafkajsExactlyOnceLoop(t *testing.T) {
	node := needKafkajs(t)
	const n = 1000
	b, adm, in, out := pipelineTopics(t, "jseos", 2, n)
	ends, err := adm.ListEndOffsets(testCtx(t, 10*time.Second), in)
	if err != nil {
		t.Fatal(err)
	}
	endList := make([]string, 2)
	ends.Each(func(o kadm.ListedOffset) { endList[o.Partition] = strconv.FormatInt(o.Offset, 10) })
	group := "jseos-" + in
	w := brokertest.StartChild(t, "eos.js", node, filepath.Join("kafkajs", "eos.js"), b.Addr(), group, in, out, "js-"+group, strings.Join(endList, ","))
	w.Wait(t, 2*time.Minute)
	checkPipelineOutput(t, b, adm, group, in, out, n)
}

// needKafkajs returns node's path once tests/kafkajs has its modules
// (npm install there, which .ci/run does); else it skips, or fails in CI.
func needKafkajs(t *testing.T) string {
	t.Helper()
	node := needTool(t, "node")
	if _, err := os.Stat(filepath.Join("kafkajs", "node_modules", "kafkajs")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("kafkajs not installed in CI: %v", err)
		}
		t.Skipf("kafkajs not installed (cd tests/kafkajs && npm install): %v", err)
	}
	return node
}

// checkPipelineOutput checks the end of an exactly-once run: the group's
// committed offsets at the input's end, and every input record once in
// the output, read committed.
func checkPipelineOutput(t *testing.T, b *brokertest.Broker, adm *kadm.Client, group, in, out string, n int) {
	t.Helper()
	ends, err := adm.ListEndOffsets(testCtx(t, 10*time.Second), in)
	if err != nil {
		t.Fatal(err)
	}
	// The last transaction's offsets are pending until its marker reaches
	// the offsets partition, which follows EndTxn's answer.
	committed := brokertest.StableCommitted(t, b.Addr(), group, in, 10*time.Second)
	ends.Each(func(e kadm.ListedOffset) {
		if c, ok := committed[e.Partition]; !ok || c != e.Offset {
			t.Fatalf("partition %d: committed %d (%v), end %d", e.Partition, c, ok, e.Offset)
		}
	})
	got := consumeN(t, b.Addr(), out, n, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	seen := map[string]int{}
	for _, r := range got {
		seen[string(r.Value)]++
	}
	for i := range n {
		if seen[strconv.Itoa(i)] != 1 {
			t.Fatalf("input record %d is in the output %d times", i, seen[strconv.Itoa(i)])
		}
	}
}
