package cli

// The produce loop. Records go out asynchronously; a promise counts each
// one the broker acknowledged. The first failed delivery stops the reading
// (franz-go fails the records queued behind it on the same partition too,
// so nothing after a gap is written). Under exactly-once the records go in
// transactions of --txn-records: a transaction commits only after every
// record in it was acknowledged, and is aborted otherwise.

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type producer struct {
	cl      *kgo.Client
	s       produceSpec
	timeout time.Duration
	stall   *stallWatch
	recCtx  context.Context // ends when the brokers stall

	sent    counter // delivered: acknowledged, or sent under acks=0, or committed
	pending counter // in the open transaction
	txns    int     // committed

	mu      sync.Mutex
	failure error // the first failed delivery
}

// run produces the whole input; ctx ending (an interrupt) stops the
// reading, and what was read until then is delivered.
func (p *producer) run(ctx context.Context) error {
	done := make(chan struct{})
	defer close(done)
	records := p.s.in.stream(done)
	var stop func()
	p.stall, p.recCtx, stop = watchStalls(p.cl, p.timeout)
	defer stop()
	var err error
	if p.s.g == exactlyOnce {
		err = p.runTransactions(ctx, records)
	} else {
		err = p.runPlain(ctx, records)
	}
	if isFenced(err) {
		return fencedErr(p.s.txnID, err)
	}
	return p.stall.err(err)
}

func (p *producer) runPlain(ctx context.Context, records <-chan inputItem) error {
	_, inErr := p.feed(ctx, records, -1, &p.sent)
	flushErr := p.flush()
	return cmpErr(p.failed(), cmpErr(flushErr, inErr))
}

// runTransactions commits a transaction every --txn-records records, and
// one for the rest at the end of the input, at a bad line or at an
// interrupt: the records read before are delivered in every case. A failed
// delivery aborts the open transaction.
func (p *producer) runTransactions(ctx context.Context, records <-chan inputItem) error {
	for {
		if err := p.cl.BeginTransaction(); err != nil {
			return err
		}
		more, inErr := p.feed(ctx, records, p.s.perTxn, &p.pending)
		if err := cmpErr(p.failed(), p.flush()); err != nil {
			p.endTxn(kgo.TryAbort)
			return err
		}
		if err := p.endTxn(kgo.TryCommit); err != nil {
			return err
		}
		if p.pending.records.Load() > 0 {
			p.txns++
			p.sent.add(p.pending.records.Swap(0), p.pending.bytes.Swap(0))
		}
		if !more || inErr != nil || ctx.Err() != nil {
			return inErr
		}
	}
}

// feed hands up to limit records (limit < 0: all) to the client. more is
// false once the input has ended; err is the input's error.
func (p *producer) feed(ctx context.Context, records <-chan inputItem, limit int, into *counter) (more bool, err error) {
	for n := 0; limit < 0 || n < limit; n++ {
		if p.failed() != nil {
			return true, nil
		}
		var item inputItem
		select {
		case <-ctx.Done():
			return true, nil
		case item = <-records:
		}
		if item.err == io.EOF {
			return false, nil
		}
		if item.err != nil {
			return false, item.err
		}
		if p.s.partition >= 0 {
			item.rec.Partition = p.s.partition
		}
		// Not ctx: an interrupt must not fail records already read.
		p.cl.Produce(p.recCtx, item.rec, p.promise(into))
	}
	return true, nil
}

func (p *producer) promise(into *counter) func(*kgo.Record, error) {
	return func(r *kgo.Record, err error) {
		if err != nil {
			p.mu.Lock()
			p.failure = cmpErr(p.failure, err)
			p.mu.Unlock()
			return
		}
		p.stall.acked()
		into.add(1, recordSize(r))
	}
}

func (p *producer) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failure
}

// flush waits for every record handed to the client: each is either
// acknowledged or failed, by the brokers or by the stall watch.
func (p *producer) flush() error {
	return p.cl.Flush(context.Background())
}

// endTxn is never cut short by an interrupt: a commit whose answer is lost
// leaves the outcome unknown.
func (p *producer) endTxn(commit kgo.TransactionEndTry) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	return p.cl.EndTransaction(ctx, commit)
}
