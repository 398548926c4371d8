package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// sessionsOnce is one run of a cell on a fresh topic (see sessions.go).
func sessionsOnce(ctx context.Context, addr string, partitions int32, sessions bool, rep *SessionsReport, payload []byte, run int) (sessionsRun, error) {
	t := &target{addrs: []string{addr}}
	topic := fmt.Sprintf("bench-sessions-p%d-%v-r%d-%d", partitions, sessions, run, time.Now().UnixNano())
	if err := t.createTopic(ctx, topic, partitions); err != nil {
		return sessionsRun{}, fmt.Errorf("create topic: %w", err)
	}
	defer t.deleteTopic(context.WithoutCancel(ctx), topic)
	prod, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxBufferedRecords(10_000))
	if err != nil {
		return sessionsRun{}, err
	}
	defer prod.Close()
	preload := &spread{cl: prod, partitions: partitions}
	if err := produceEach(ctx, prod, rep.Preload, func() *kgo.Record { return preload.record(payload) }); err != nil {
		return sessionsRun{}, fmt.Errorf("preload: %w", err)
	}
	tailCtx, stopTail := context.WithCancel(ctx)
	tailDone := make(chan error, 1)
	go func() {
		tailDone <- writeSteadily(tailCtx, &spread{cl: prod, partitions: partitions}, rep.TailRate, payload)
	}()
	r, err := follow(ctx, addr, topic, sessions, rep.Preload, rep.Window)
	stopTail()
	if tailErr := <-tailDone; err == nil && tailErr != nil {
		err = fmt.Errorf("tail producer: %w", tailErr)
	}
	return r, err
}

// spread produces records round robin over a topic's partitions.
type spread struct {
	cl         *kgo.Client
	partitions int32
	next       int32
}

func (s *spread) record(payload []byte) *kgo.Record {
	r := &kgo.Record{Partition: s.next, Value: payload}
	s.next = (s.next + 1) % s.partitions
	return r
}

// writeSteadily produces rate records per second, in 5 ms ticks, until
// ctx ends; it returns the first produce error.
func writeSteadily(ctx context.Context, s *spread, rate int, payload []byte) error {
	const tick = 5 * time.Millisecond
	perTick := max(1, rate*int(tick)/int(time.Second))
	tk := time.NewTicker(tick)
	defer tk.Stop()
	var failed atomic.Pointer[error]
	for {
		select {
		case <-ctx.Done():
			if e := failed.Load(); e != nil && !errors.Is(*e, context.Canceled) {
				return *e
			}
			return nil
		case <-tk.C:
		}
		for range perTick {
			s.cl.Produce(ctx, s.record(payload), func(_ *kgo.Record, err error) {
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			})
		}
	}
}

// fetchCounter counts a client's fetch requests and the bytes of fetch
// requests and responses on the wire.
type fetchCounter struct{ requests, bytes atomic.Int64 }

func (c *fetchCounter) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, n int, _, _ time.Duration, _ error) {
	if key == 1 {
		c.requests.Add(1)
		c.bytes.Add(int64(n))
	}
}

func (c *fetchCounter) OnBrokerRead(_ kgo.BrokerMetadata, key int16, n int, _, _ time.Duration, _ error) {
	if key == 1 {
		c.bytes.Add(int64(n))
	}
}

// follow reads topic from the start until preload records have arrived
// (catch-up), then follows it for window (tail).
func follow(ctx context.Context, addr, topic string, sessions bool, preload int, window time.Duration) (sessionsRun, error) {
	var fc fetchCounter
	opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.WithHooks(&fc)}
	if !sessions {
		opts = append(opts, kgo.DisableFetchSessions())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return sessionsRun{}, err
	}
	defer cl.Close()
	var r sessionsRun
	start, got := time.Now(), 0
	for got < preload {
		n, err := pollOnce(ctx, cl)
		if err != nil {
			return r, fmt.Errorf("catch-up, %d of %d: %w", got, preload, err)
		}
		got += n
	}
	r.CatchUp = float64(got) / time.Since(start).Seconds()
	return r, tail(ctx, cl, &fc, window, &r)
}

// tail follows the producer for window and fills the tail measurements
// of r: latencies of the records produced within the window, fetches,
// fetch bytes and CPU per second.
func tail(ctx context.Context, cl *kgo.Client, fc *fetchCounter, window time.Duration, r *sessionsRun) error {
	reqs0, bytes0, cpu0 := fc.requests.Load(), fc.bytes.Load(), cpuTime()
	begin := time.Now()
	end := begin.Add(window)
	var lat []time.Duration
	for time.Now().Before(end) {
		pctx, cancel := context.WithDeadline(ctx, end)
		fs := cl.PollFetches(pctx)
		cancel()
		now := time.Now()
		var errs []error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("%s[%d]: %w", t, p, err))
			}
		})
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		fs.EachRecord(func(rec *kgo.Record) {
			if !rec.Timestamp.Before(begin) {
				lat = append(lat, now.Sub(rec.Timestamp))
			}
		})
	}
	secs := time.Since(begin).Seconds()
	r.Fetches = float64(fc.requests.Load()-reqs0) / secs
	r.FetchBytes = float64(fc.bytes.Load()-bytes0) / secs
	r.CPU = (cpuTime() - cpu0).Seconds() / secs
	slices.Sort(lat)
	r.P50, r.P99, r.TailRecords = percentile(lat, 0.5), percentile(lat, 0.99), len(lat)
	if len(lat) == 0 {
		return errors.New("no record produced in the tail window arrived")
	}
	return nil
}
