package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/brokertest"
)

func initProducerID(t *testing.T, addr string, id int64, epoch int16) *kmsg.InitProducerIDResponse {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.ProducerID, req.ProducerEpoch = id, epoch
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), newClient(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// Producer ids are never handed out twice, across restarts too, and a
// producer can bump its epoch and keep its id (KIP-360).
func TestProducerIDsUniqueAcrossRestarts(t *testing.T) {
	b := brokertest.Start(t)
	seen := map[int64]bool{}
	for i := 0; i < 3; i++ {
		r := initProducerID(t, b.Addr(), -1, -1)
		if r.ErrorCode != 0 || r.ProducerEpoch != 0 || seen[r.ProducerID] {
			t.Fatalf("init %d: %+v (seen %v)", i, r, seen)
		}
		seen[r.ProducerID] = true
	}
	bumped := initProducerID(t, b.Addr(), 1, 0)
	if bumped.ErrorCode != 0 || bumped.ProducerID != 1 || bumped.ProducerEpoch != 1 {
		t.Fatalf("epoch bump of id 1: %+v, want id 1 epoch 1", bumped)
	}
	if r := initProducerID(t, b.Addr(), 99999, 0); r.ProducerID == 99999 || seen[r.ProducerID] {
		t.Fatalf("bump of an id never issued: %+v, want a fresh id", r)
	} else {
		seen[r.ProducerID] = true
	}
	cfg := b.Cfg
	cfg.Logger = nil
	b.Close()
	after := brokertest.StartConfig(t, cfg)
	for i := 0; i < 3; i++ {
		r := initProducerID(t, after.Addr(), -1, -1)
		if r.ErrorCode != 0 || seen[r.ProducerID] {
			t.Fatalf("after restart: %+v reuses an id from before (%v)", r, seen)
		}
		seen[r.ProducerID] = true
	}
	// A transactional id takes its producer id from the same durable
	// blocks: never one handed out before the restart either.
	req := kmsg.NewPtrInitProducerIDRequest()
	txn := "txn-1"
	req.TransactionalID, req.TransactionTimeoutMillis = &txn, 60000
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), newClient(t, after.Addr()))
	if err != nil || resp.ErrorCode != 0 || seen[resp.ProducerID] || resp.ProducerEpoch != 0 {
		t.Fatalf("transactional init: %v %+v (ids seen %v)", err, resp, seen)
	}
}

// A catalog restored from an older copy does not remember the producer
// ids it handed out since. The start raises its mark above every id the
// partitions hold: otherwise the next producer gets an old producer's id,
// and the partition takes its first batches for that producer's
// duplicates, acknowledged and not stored.
func TestOlderCatalogDoesNotHandProducerIDsOutAgain(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "oldcatalog")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
	catalog := filepath.Join(b.Cfg.DataDir, "__sluice_catalog", "catalog.log")
	older, err := os.ReadFile(catalog)
	if err != nil {
		t.Fatal(err)
	}
	produceIdempotent(t, b.Addr(), topic, 0, 10) // the catalog's first producer id
	b.Close()
	if err := os.WriteFile(catalog, older, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := b.Cfg
	cfg.Logger = nil // its own log
	after := brokertest.StartConfig(t, cfg)
	if !strings.Contains(after.Log.String(), "producer-id mark was below") {
		t.Errorf("the start did not log the raised producer-id mark:\n%s", after.Log.String())
	}
	produceIdempotent(t, after.Addr(), topic, 10, 10)
	recs := consumeN(t, after.Addr(), topic, 20)
	for i, r := range recs {
		if got := atoi(t, r.Value); got != i {
			t.Fatalf("record %d is %d, want %d: the second producer's records were taken for duplicates", i, got, i)
		}
	}
}

// produceIdempotent writes values from..from+n-1 in one batch with a new
// idempotent producer.
func produceIdempotent(t *testing.T, addr, topic string, from, n int) {
	t.Helper()
	cl := newClient(t, addr, kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))
	defer cl.Close()
	var recs []*kgo.Record
	for i := from; i < from+n; i++ {
		recs = append(recs, &kgo.Record{Value: val(i)})
	}
	if err := cl.ProduceSync(testCtx(t, 10*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}
