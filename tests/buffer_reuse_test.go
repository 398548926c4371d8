package tests

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/brokertest"
)

// Request frames over 1 MiB and fetch buffers come from a shared pool and
// are reused across connections: producers sending multi-MiB requests at
// once, and consumers reading at once, must each get exactly their own
// bytes back.
func TestPooledBuffersAcrossConnections(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	const producers, partitions, perProducer, size = 3, 6, 600, 8 << 10
	var wg sync.WaitGroup
	topics := make([]string, producers)
	for i := range producers {
		topics[i] = topicName(t, fmt.Sprint(i))
		createTopic(t, adm, topics[i], partitions, nil)
	}
	for i := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A long linger and big batches: requests of several MiB.
			cl := newClient(t, b.Addr(), kgo.DefaultProduceTopic(topics[i]), kgo.DisableIdempotentWrite(),
				kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerLinger(50*time.Millisecond))
			results := make(chan error, perProducer)
			for j := range perProducer {
				cl.Produce(context.Background(), &kgo.Record{Partition: int32(j % partitions), Value: pattern(i, j, size)},
					func(_ *kgo.Record, err error) { results <- err })
			}
			for range perProducer {
				if err := <-results; err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for i := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range consumeN(t, b.Addr(), topics[i], perProducer) {
				j := int(r.Value[1])<<8 | int(r.Value[2])
				if !bytes.Equal(r.Value, pattern(i, j, size)) {
					t.Errorf("topic %d: record %d at %d/%d does not hold its own bytes", i, j, r.Partition, r.Offset)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// pattern is producer p's record j: p, j in two bytes, then bytes that
// differ between producers and records.
func pattern(p, j, size int) []byte {
	v := make([]byte, size)
	v[0], v[1], v[2] = byte(p), byte(j>>8), byte(j)
	for k := 3; k < size; k++ {
		v[k] = byte(k*7 + j*13 + p*101)
	}
	return v
}
