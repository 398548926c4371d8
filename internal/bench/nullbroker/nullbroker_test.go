package nullbroker

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestProduceConsume: records produced with acks=all are counted, and a
// consumer reading at the same time gets exactly as many, of the size
// produced.
func TestProduceConsume(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	adm, err := kgo.NewClient(kgo.SeedBrokers(s.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := kadm.NewClient(adm).CreateTopic(ctx, 3, 1, nil, "t"); err != nil {
		t.Fatal(err)
	}
	const n, size = 5000, 100
	got, sizes := make(chan int, 1), make(map[int]int)
	go func() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.Addr()), kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			got <- -1
			return
		}
		defer cl.Close()
		c := 0
		for c < n && ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { c++; sizes[len(r.Value)]++ })
		}
		got <- c
	}()
	pr, err := kgo.NewClient(kgo.SeedBrokers(s.Addr()), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DisableIdempotentWrite(),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var wg sync.WaitGroup
	wg.Add(n)
	for range n {
		pr.Produce(ctx, &kgo.Record{Topic: "t", Value: make([]byte, size)}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Error(err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	if c := <-got; c != n || sizes[size] != n {
		t.Fatalf("consumed %d records (sizes %v), want %d of %d bytes", c, sizes, n, size)
	}
}

func TestFirstValueSize(t *testing.T) {
	b := appendBatch(nil, 0, 3, 77, 1)
	count, size, ok := countRecords(b)
	if count != 3 || size != 77 || !ok {
		t.Fatalf("countRecords = %d, %d, %v; want 3, 77, true", count, size, ok)
	}
	if _, _, ok := countRecords(b[:40]); ok {
		t.Fatal("a torn batch was counted")
	}
}
