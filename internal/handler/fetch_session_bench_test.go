package handler

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/topics"
	"sluice/internal/vfs"
)

// BenchmarkFetchIdle is one fetch of 1,000 caught-up partitions: full and
// sessionless (every partition named and answered), and incremental
// (nothing named, nothing answered). It shows what a session saves the
// broker per fetch of a consumer that follows its partitions.
func BenchmarkFetchIdle(b *testing.B) {
	const n = 1000
	tm, err := topics.Open(vfs.NewMem(), topics.Config{DataDir: "/data"})
	if err != nil {
		b.Fatal(err)
	}
	defer tm.Close()
	if _, err := tm.Create(topics.CreateRequest{Name: "idle", Partitions: n, ReplicationFactor: 1}); err != nil {
		b.Fatal(err)
	}
	h := New(Env{Topics: tm})
	full := func(epoch int32) *kmsg.FetchRequest {
		req := kmsg.NewPtrFetchRequest()
		req.Version, req.SessionEpoch = 12, epoch
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = "idle"
		for p := range int32(n) {
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.PartitionMaxBytes = p, 1<<20
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		return req
	}
	b.Run("sessionless", func(b *testing.B) {
		req := full(-1)
		b.ReportAllocs()
		for b.Loop() {
			h.Handle(context.Background(), req)
		}
	})
	b.Run("incremental", func(b *testing.B) {
		resp := h.Handle(context.Background(), full(0)).Resp.(*kmsg.FetchResponse)
		req := kmsg.NewPtrFetchRequest()
		req.Version, req.SessionID, req.SessionEpoch = 12, resp.SessionID, 1
		b.ReportAllocs()
		for b.Loop() {
			if got := h.Handle(context.Background(), req).Resp.(*kmsg.FetchResponse); got.ErrorCode != 0 || len(got.Topics) != 0 {
				b.Fatalf("incremental fetch: error %d, %d topics", got.ErrorCode, len(got.Topics))
			}
			req.SessionEpoch++
		}
	})
}
