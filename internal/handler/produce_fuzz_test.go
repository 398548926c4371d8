package handler

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/cluster"
	"sluice/internal/recordbatch"
	"sluice/internal/topics"
	"sluice/internal/vfs"
)

// FuzzProduceRecords puts arbitrary bytes in a partition's records of a
// well-formed Produce request. Whatever the bytes, the handler does not
// panic, and the partition's log moves only for an accepted batch, by
// exactly its record count; rejected bytes write nothing.
func FuzzProduceRecords(f *testing.F) {
	f.Add([]byte{})
	f.Add(binary.BigEndian.AppendUint32(make([]byte, 8), 0xFFFFFFFF))
	good := oneRecordBatch([]byte("v"))
	f.Add(good)
	f.Add(append(append([]byte(nil), good...), "trailing"...))

	tm, err := topics.Open(vfs.NewMem(), topics.Config{DataDir: "/data"})
	if err != nil {
		f.Fatal(err)
	}
	defer tm.Close()
	if _, err := tm.Create(topics.CreateRequest{Name: "fuzz", Partitions: 1, ReplicationFactor: 1}); err != nil {
		f.Fatal(err)
	}
	h := New(Env{Topics: tm, Cluster: cluster.NewLocal(cluster.Node{}, tm)})
	p := tm.Partition("fuzz", 0)

	f.Fuzz(func(t *testing.T, records []byte) {
		before := p.LogEndOffset()
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis = 9, 1, 1000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "fuzz"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = append([]byte(nil), records...)
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := h.Handle(context.Background(), req).Resp.(*kmsg.ProduceResponse)
		after := p.LogEndOffset()
		sp := resp.Topics[0].Partitions[0]
		if sp.ErrorCode != 0 {
			if after != before {
				t.Fatalf("rejected batch (error %d) moved the log from %d to %d", sp.ErrorCode, before, after)
			}
			return
		}
		n := int64(int32(binary.BigEndian.Uint32(records[57:])))
		if sp.BaseOffset != before || after != before+n {
			t.Fatalf("accepted batch of %d records at %d moved the log %d -> %d", n, sp.BaseOffset, before, after)
		}
	})
}

// oneRecordBatch builds a valid uncompressed batch with one record.
func oneRecordBatch(value []byte) []byte {
	return recordbatch.Build(nil, []recordbatch.Record{{Value: value}}, 0, 0)
}
