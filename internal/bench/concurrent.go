package bench

import (
	"context"
	"fmt"
	"time"
)

// produceWhileConsuming is one run as users run: a consumer reads the
// topic while the producer writes it. Produce rec/s is the headline; the
// consumer's rate is its records over the time from the first Produce to
// the last record read. The broker's CPU time over that window, per
// record, is the cost of producing and consuming one. Then a second
// consumer reads the whole topic alone (consume rec/s with nothing else
// running).
func produceWhileConsuming(ctx context.Context, cfg Config, cell Cell, n int, payload []byte, t *target, topic string) (runResult, error) {
	cl, err := newConsumer(t.addrs, topic)
	if err != nil {
		return runResult{}, err
	}
	defer cl.Close()
	type read struct {
		got int
		end time.Time
		err error
	}
	done := make(chan read, 1)
	go func() {
		got, end, err := readN(ctx, cl, n)
		done <- read{got, end, err}
	}()
	t.window("begin")
	cpu0, cpuErr := t.cpuTime()
	pr, err := produce(ctx, t.addrs, topic, n, payload, cell, cfg.MaxBuffered)
	if err != nil {
		t.window("end")
		return runResult{}, fmt.Errorf("produce: %w", err)
	}
	rd := <-done
	t.window("end")
	if rd.err != nil {
		return runResult{}, fmt.Errorf("consume while producing: %w", rd.err)
	}
	cpu1, cpuErr2 := t.cpuTime()
	r := measure(pr, consumeResult{records: rd.got, elapsed: rd.end.Sub(pr.start)}, cell.Size)
	r.lag = rd.end.Sub(pr.start.Add(pr.elapsed))
	if cpuErr == nil && cpuErr2 == nil && t.cpu != nil {
		r.cpuPerRecord = (cpu1 - cpu0) / time.Duration(n)
	}
	alone, err := consume(ctx, t.addrs, topic, n)
	if err != nil {
		return r, fmt.Errorf("consume alone: %w", err)
	}
	r.aloneRate = float64(alone.records) / alone.elapsed.Seconds()
	return r, nil
}

// cpuTime is the broker's CPU time so far, 0 when it is not measured.
func (t *target) cpuTime() (time.Duration, error) {
	if t.cpu == nil {
		return 0, nil
	}
	return t.cpu()
}
