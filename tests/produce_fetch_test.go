package tests

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/partition"
)

// Every acks level under every fsync policy, 6 partitions: each record
// lands once, in order per partition, and is read back with exact counts.
func TestProduceEachAcksAcrossSixPartitions(t *testing.T) {
	for _, policy := range []partition.FsyncPolicy{partition.FsyncAlways, partition.FsyncInterval, partition.FsyncNever} {
		t.Run(policy.String(), func(t *testing.T) {
			b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) { c.Fsync = policy }))
			produceEachAcks(t, b.Addr())
		})
	}
}

func produceEachAcks(t *testing.T, addr string) {
	adm := newAdmin(t, addr)
	const partitions, perPartition = 6, 200
	for _, tc := range []struct {
		name string
		acks kgo.Acks
	}{{"acks0", kgo.NoAck()}, {"acks1", kgo.LeaderAck()}, {"acksall", kgo.AllISRAcks()}} {
		t.Run(tc.name, func(t *testing.T) {
			topic := topicName(t, tc.name)
			createTopic(t, adm, topic, partitions, nil)
			prod := newClient(t, addr, kgo.RequiredAcks(tc.acks), kgo.DisableIdempotentWrite(),
				kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(topic))
			var wg sync.WaitGroup
			errs := make(chan error, partitions*perPartition)
			for i := 0; i < perPartition; i++ {
				for p := int32(0); p < partitions; p++ {
					wg.Add(1)
					prod.Produce(context.Background(), &kgo.Record{Partition: p, Value: val(i)}, func(_ *kgo.Record, err error) {
						defer wg.Done()
						if err != nil {
							errs <- err
						}
					})
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("produce: %v", err)
			}
			recs := consumeN(t, addr, topic, partitions*perPartition)
			next := make([]int, partitions)
			for _, r := range recs {
				if got := atoi(t, r.Value); got != next[r.Partition] || r.Offset != int64(got) {
					t.Fatalf("partition %d: got value %d at offset %d, want %d at %d", r.Partition, got, r.Offset, next[r.Partition], next[r.Partition])
				}
				next[r.Partition]++
			}
			ends, err := adm.ListEndOffsets(testCtx(t, 10*time.Second), topic)
			if err != nil {
				t.Fatal(err)
			}
			ends.Each(func(o kadm.ListedOffset) {
				if o.Offset != perPartition {
					t.Errorf("partition %d end offset %d, want %d", o.Partition, o.Offset, perPartition)
				}
			})
		})
	}
}

// fetchRaw issues one Fetch request for topic/partition 0 at offset.
func fetchRaw(ctx context.Context, cl *kgo.Client, topic string, offset int64, maxWait, minBytes int32) (*kmsg.FetchResponse, error) {
	mreq := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = &topic
	mreq.Topics = append(mreq.Topics, mt)
	md, err := mreq.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = maxWait, minBytes, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, md.Topics[0].TopicID // the client picks the version: v13+ names topics by id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = offset, 1<<20, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req.RequestWith(ctx, cl)
}

// A long-poll fetch answers as soon as data arrives, and after max_wait
// when none does.
func TestLongPollFetch(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	topic := topicName(t, "poll")
	createTopic(t, adm, topic, 1, nil)
	cl := newClient(t, b.Addr(), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic))

	start := time.Now()
	resp, err := fetchRaw(testCtx(t, 10*time.Second), cl, topic, 0, 300, 1)
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("empty long poll answered after %v, before max_wait 300ms", waited)
	}
	if n := len(resp.Topics[0].Partitions[0].RecordBatches); n != 0 {
		t.Fatalf("empty topic returned %d bytes", n)
	}

	type result struct {
		resp *kmsg.FetchResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		r, err := fetchRaw(context.Background(), cl, topic, 0, 20000, 1)
		done <- result{r, err}
	}()
	if err := cl.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Value: []byte("wake")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		p := r.resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || len(p.RecordBatches) == 0 || p.HighWatermark != 1 {
			t.Fatalf("long poll answered error %d, %d bytes, hw %d; want the record", p.ErrorCode, len(p.RecordBatches), p.HighWatermark)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("long poll did not answer when data arrived")
	}
}

// A fetch at an offset inside a batch returns that whole batch, from its
// base offset.
func TestFetchMidBatchReturnsWholeBatch(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	topic := topicName(t, "mid")
	createTopic(t, adm, topic, 1, nil)
	cl := newClient(t, b.Addr(), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(time.Second))
	var recs []*kgo.Record
	for i := 0; i < 10; i++ {
		recs = append(recs, &kgo.Record{Value: val(i)})
	}
	if err := cl.ProduceSync(testCtx(t, 10*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	resp, err := fetchRaw(testCtx(t, 10*time.Second), cl, topic, 5, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	var batch kmsg.RecordBatch
	if err := batch.ReadFrom(p.RecordBatches); err != nil {
		t.Fatal(err)
	}
	if batch.FirstOffset != 0 || batch.NumRecords != 10 || batch.LastOffsetDelta != 9 {
		t.Fatalf("got batch at %d with %d records, want the whole batch at 0 with 10", batch.FirstOffset, batch.NumRecords)
	}
	got := consumeN(t, b.Addr(), topic, 5, kgo.ConsumeResetOffset(kgo.NewOffset().At(5)))
	for i, r := range got {
		if r.Offset != int64(5+i) || atoi(t, r.Value) != 5+i {
			t.Fatalf("record %d: offset %d value %s", i, r.Offset, r.Value)
		}
	}
}

// Fetching outside the log gets OFFSET_OUT_OF_RANGE with the bounds.
func TestFetchOutOfRange(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	topic := topicName(t, "oor")
	createTopic(t, adm, topic, 1, nil)
	cl := newClient(t, b.Addr())
	resp, err := fetchRaw(testCtx(t, 10*time.Second), cl, topic, 7, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != kerr.OffsetOutOfRange.Code || p.HighWatermark != 0 || p.LogStartOffset != 0 {
		t.Fatalf("got error %d hw %d start %d", p.ErrorCode, p.HighWatermark, p.LogStartOffset)
	}
}

// Fetch byte limits (KIP-74): partition_max_bytes and max_bytes bound the
// answer, except that the first batch of the first partition with data is
// returned whole, so a consumer always makes progress.
func TestFetchByteLimits(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	topic := topicName(t, "limits")
	createTopic(t, adm, topic, 2, nil)
	cl := newClient(t, b.Addr(), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	for p := int32(0); p < 2; p++ {
		for i := 0; i < 3; i++ { // three batches of one 1,000-byte record per partition
			if err := cl.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Partition: p, Value: make([]byte, 1000)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	md, err := adm.Metadata(testCtx(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(maxBytes, partMax int32) []int {
		req := kmsg.NewPtrFetchRequest()
		req.MaxBytes = maxBytes
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = topic, md.Topics[topic].ID
		for p := int32(0); p < 2; p++ {
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = p, partMax, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		var batches []int
		for _, p := range resp.Topics[0].Partitions {
			n := 0
			for rest := p.RecordBatches; len(rest) > 0; n++ {
				var rb kmsg.RecordBatch
				if err := rb.ReadFrom(rest); err != nil {
					t.Fatal(err)
				}
				rest = rest[12+rb.Length:]
			}
			batches = append(batches, n)
		}
		return batches
	}
	for _, tc := range []struct {
		maxBytes, partMax int32
		want              []int
	}{
		{100, 100, []int{1, 0}},         // both limits below one batch: only the first partition's first batch
		{1 << 20, 100, []int{1, 0}},     // partition limit below one batch: the first partition still progresses
		{1 << 20, 2500, []int{2, 2}},    // two ~1,070-byte batches fit each partition
		{2500, 1 << 20, []int{2, 0}},    // the response limit is used up by the first partition
		{1 << 20, 1 << 20, []int{3, 3}}, // everything
	} {
		if got := fetch(tc.maxBytes, tc.partMax); !slices.Equal(got, tc.want) {
			t.Errorf("max_bytes %d, partition_max_bytes %d: batches per partition %v, want %v", tc.maxBytes, tc.partMax, got, tc.want)
		}
	}
}
