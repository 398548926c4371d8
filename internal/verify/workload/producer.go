package workload

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// flushTimeout bounds how long a stopping producer waits for the
// outcomes of what it sent; records still unanswered after it are logged
// as info when the client closes.
const flushTimeout = 10 * time.Second

// producerOpts are the client settings of each ProducerSetting, after
// the seeds' articles.
func producerOpts(s ProducerSetting) []kgo.Opt {
	switch s {
	case AcksNone: // at-most-once: fire and forget, never retry
		return []kgo.Opt{kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite(), kgo.RecordRetries(0)}
	case AcksAll: // at-least-once: acks=all, retry until acknowledged
		return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DisableIdempotentWrite()}
	default: // idempotent: kgo's default, spelt out
		return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}
	}
}

// runProducer sends c.Rate records a second until stop, then waits for
// their outcomes. Each send is logged when its outcome is known; a
// producer killed first leaves its in-flight sends unlogged, which the
// checker allows for (docs/verify.md).
func runProducer(stop context.Context, c Config, rec *recorder) error {
	opts := append(baseOpts(c), producerOpts(c.Producer)...)
	opts = append(opts, kgo.DefaultProduceTopic(c.Topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.MaxBufferedRecords(10*c.Rate))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close() // fails what is still buffered, and those are logged as info
	acked := c.Producer != AcksNone
	tick := time.NewTicker(time.Second / time.Duration(c.Rate))
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-stop.Done():
			ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
			defer cancel()
			cl.Flush(ctx)
			return nil
		case <-tick.C:
		}
		key := keyOf(n)
		r := &kgo.Record{Key: []byte(key), Value: []byte(valueOf(c.Process, n)), Partition: partitionOf(key, c.Partitions)}
		start := time.Now()
		// Not the stop context: cancelling a record in flight would only
		// turn its outcome from known to unknown.
		cl.Produce(context.Background(), r, func(r *kgo.Record, err error) { rec.sent(start, r, err, acked, "") })
	}
}
