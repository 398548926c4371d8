package cli

// How `sluice produce` gives up on brokers that stopped answering. franz-go
// retries a record until its context ends; its own delivery timeout
// (RecordDeliveryTimeout) counts from the record's timestamp, which is
// useless for records that carry an old timestamp from a JSON input. So
// the records are failed here instead, once records have been waiting and
// none has been acknowledged for --timeout.

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type stallWatch struct {
	cl      *kgo.Client
	limit   time.Duration
	lastAck atomic.Int64 // Unix nanoseconds of the last acknowledgement, or of the start
	stalled atomic.Bool
}

// watchStalls returns the context to produce records with; stop ends the
// watch.
func watchStalls(cl *kgo.Client, limit time.Duration) (*stallWatch, context.Context, func()) {
	w := &stallWatch{cl: cl, limit: limit}
	w.acked()
	ctx, cancel := context.WithCancel(context.Background())
	quit := make(chan struct{})
	go func() {
		t := time.NewTicker(max(limit/20, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			if w.cl.BufferedProduceRecords() == 0 {
				w.acked() // nothing waits: an idle input is no stall
			} else if time.Since(time.Unix(0, w.lastAck.Load())) > w.limit {
				w.stalled.Store(true)
				cancel()
				// A cancelled record is failed only when a request
				// for its partition could be sent, and with the
				// brokers gone none can: fail them all now. The
				// command ends, so the client's state after this
				// "unsafe" abort does not matter.
				w.cl.UnsafeAbortBufferedRecords()
				return
			}
		}
	}()
	return w, ctx, func() { close(quit); cancel() }
}

func (w *stallWatch) acked() { w.lastAck.Store(time.Now().UnixNano()) }

// err replaces the cancellation franz-go reports with what happened.
func (w *stallWatch) err(err error) error {
	if err != nil && w.stalled.Load() {
		return fmt.Errorf("no acknowledgement from the brokers for %v; records not acknowledged may or may not have been written", w.limit)
	}
	return err
}
