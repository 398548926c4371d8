package handler

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"

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
	h := New(Env{Topics: tm})
	p := tm.Partition("fuzz", 0)

	f.Fuzz(func(t *testing.T, records []byte) {
		before := p.Log().NextOffset()
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis = 9, 1, 1000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "fuzz"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = append([]byte(nil), records...)
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := h.Handle(context.Background(), req).Resp.(*kmsg.ProduceResponse)
		after := p.Log().NextOffset()
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
	body := []byte{0}
	body = kbin.AppendVarlong(body, 0)
	body = kbin.AppendVarint(body, 0)
	body = kbin.AppendVarint(body, -1)
	body = kbin.AppendVarintBytes(body, value)
	body = kbin.AppendVarint(body, 0)
	b := make([]byte, 61)
	b[16] = 2
	binary.BigEndian.PutUint64(b[43:], ^uint64(0))
	binary.BigEndian.PutUint16(b[51:], 0xffff)
	binary.BigEndian.PutUint32(b[53:], 0xffffffff)
	binary.BigEndian.PutUint32(b[57:], 1)
	b = kbin.AppendVarint(b, int32(len(body)))
	b = append(b, body...)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}
