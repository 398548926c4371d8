package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// produceResult is one produce pass over a topic.
type produceResult struct {
	records   int
	start     time.Time // the first Produce call
	elapsed   time.Duration
	latencies []time.Duration // one per record, Produce() call to promise
	// answers holds, per produce request, the time from its last byte
	// written to its response read: the broker's answer time as the
	// client sees it, which with kgo's one produce request in flight per
	// broker bounds the rate (records per request over the cycle).
	answers []time.Duration
}

// requestHook collects produce requests' answer times (kgo's
// HookBrokerE2E).
type requestHook struct {
	mu      sync.Mutex
	answers []time.Duration
}

func (h *requestHook) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e kgo.BrokerE2E) {
	if key != produceKey || e.Err() != nil {
		return
	}
	h.mu.Lock()
	h.answers = append(h.answers, e.ReadWait+e.TimeToRead)
	h.mu.Unlock()
}

// reset forgets the answers so far (a warm-up's).
func (h *requestHook) reset() {
	h.mu.Lock()
	h.answers = nil
	h.mu.Unlock()
}

// take returns the answers so far.
func (h *requestHook) take() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.answers)
}

// produceKey is the Produce API's key.
const produceKey = 0

// produceOpts builds the producer options shared by both targets.
// Idempotence is on only for the cells that ask for it (kgo's default is
// on), so plain acks=all and idempotent acks=all can be compared within one
// run, both on Sluice and on the peer. Compression is
// off because kgo's default (snappy) would squeeze a batch of identical
// payloads to almost nothing, and MB/s would then measure the codec rather
// than bytes moved to the broker and its disk.
func produceOpts(addrs []string, cell Cell, maxBuffered int) []kgo.Opt {
	ack := kgo.LeaderAck()
	if cell.Acks == AcksAll {
		ack = kgo.AllISRAcks()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(addrs...),
		kgo.RequiredAcks(ack),
		kgo.MaxBufferedRecords(maxBuffered),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	}
	if !cell.Idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	return opts
}

// produce writes n records of payload to topic as fast as kgo allows,
// keeping at most maxBuffered records in flight. Produce blocks once the
// buffer is full, so the loop is closed: latency includes the time a record
// waited for room, which is what a saturating application sees.
func produce(ctx context.Context, addrs []string, topic string, n int, payload []byte, cell Cell, maxBuffered int) (produceResult, error) {
	hook := &requestHook{}
	cl, err := kgo.NewClient(append(produceOpts(addrs, cell, maxBuffered), kgo.WithHooks(hook))...)
	if err != nil {
		return produceResult{}, err
	}
	defer cl.Close()

	// Each promise writes only its own slot, so no lock is needed.
	lat := make([]time.Duration, n)
	var (
		wg       sync.WaitGroup
		failed   atomic.Int64
		firstErr atomic.Value
	)
	wg.Add(n)
	start := time.Now()
	for i := range n {
		sent := time.Now()
		rec := &kgo.Record{Topic: topic, Value: payload}
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			lat[i] = time.Since(sent)
			if err != nil && failed.Add(1) == 1 {
				firstErr.Store(err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failed.Load(); f > 0 {
		return produceResult{}, fmt.Errorf("%d of %d records failed, first: %v", f, n, firstErr.Load())
	}
	hook.mu.Lock()
	answers := slices.Clone(hook.answers)
	hook.mu.Unlock()
	return produceResult{records: n, start: start, elapsed: elapsed, latencies: lat, answers: answers}, nil
}
