package tests

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/recordbatch"
)

// Raw requests for exact protocol checks: sent at exactly the version set
// on them (a kgo client would negotiate its own), one connection each.

// roundTrip sends req on a new connection and decodes the response.
func roundTrip(t *testing.T, addr string, req kmsg.Request) kmsg.Response {
	t.Helper()
	c := dialRaw(t, addr)
	c.request(req, 1)
	resp := req.ResponseKind()
	if err := resp.ReadFrom(c.response(1, resp.IsFlexible())); err != nil {
		t.Fatalf("%T v%d: %v", resp, req.GetVersion(), err)
	}
	return resp
}

// initTxnRaw gives a transactional id its producer id and epoch.
func initTxnRaw(t *testing.T, addr, id string) (int64, int16) {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version, req.TransactionalID, req.TransactionTimeoutMillis = 4, &id, 60000
	resp := roundTrip(t, addr, req).(*kmsg.InitProducerIDResponse)
	if resp.ErrorCode != 0 {
		t.Fatalf("init %s: code %d", id, resp.ErrorCode)
	}
	return resp.ProducerID, resp.ProducerEpoch
}

// addPartitionRaw adds one partition to a producer's transaction the way
// producers do (AddPartitionsToTxn v3) and returns its code.
func addPartitionRaw(t *testing.T, addr, id string, pid int64, epoch int16, topic string, partition int32) int16 {
	t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch = 3, id, pid, epoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{partition}
	req.Topics = append(req.Topics, rt)
	return roundTrip(t, addr, req).(*kmsg.AddPartitionsToTxnResponse).Topics[0].Partitions[0].ErrorCode
}

// txnBatch is a transactional batch of one record per value.
func txnBatch(pid int64, epoch int16, seq int32, values ...string) []byte {
	recs := make([]recordbatch.Record, len(values))
	for i, v := range values {
		recs[i] = recordbatch.Record{Value: []byte(v)}
	}
	b := recordbatch.BuildTxn(nil, recs, time.Now().UnixMilli(), pid, epoch)
	binary.BigEndian.PutUint32(b[53:], uint32(seq)) // base sequence
	binary.BigEndian.PutUint32(b[17:], recordbatch.Batch(b).ComputeCRC())
	return b
}

// produceRaw sends one batch to one partition (acks=all) and returns the
// partition's answer.
func produceRaw(t *testing.T, addr string, version int16, txnID *string, topic string, partition int32, batch []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis, req.TransactionID = version, -1, 5000, txnID
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := roundTrip(t, addr, req).(*kmsg.ProduceResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("produce v%d: response %+v", version, resp)
	}
	return resp.Topics[0].Partitions[0]
}
