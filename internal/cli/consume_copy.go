package cli

// `sluice consume --to OUT`: the exactly-once copy, consume → transform →
// produce, with franz-go's GroupTransactSession. Each poll's records are
// written to OUT in one transaction that also commits the group's offsets
// past them (sendOffsetsToTransaction), so after any crash the group
// resumes exactly after the last committed copy: every input record is in
// OUT once, for read_committed readers. A rebalance during a transaction
// aborts it, and the records are copied again by whoever owns them next.
// The transform is the identity: key, value, headers and timestamp are
// kept; the partition in OUT is chosen by key.

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type copier struct {
	sess    *kgo.GroupTransactSession
	s       consumeSpec
	stderr  io.Writer
	timeout time.Duration

	copied counter // in committed transactions
	txns   int

	mu      sync.Mutex
	failure error // of a record produced in the open transaction
}

func copyExactlyOnce(c *conn, s consumeSpec, stdout, stderr io.Writer) int {
	opts, err := c.clientOpts("sluice-consume", append(consumerSettings(exactlyOnce, s.group, s.session),
		kgo.ConsumeTopics(s.topic),
		kgo.ConsumeStartOffset(s.from), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.TransactionalID(s.txnID), kgo.DefaultProduceTopic(s.to), kgo.RequiredAcks(kgo.AllISRAcks()))...)
	if err != nil {
		return cmdFailure(stderr, "consume", err)
	}
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return cmdFailure(stderr, "consume", err)
	}
	defer sess.Close()
	for _, t := range []string{s.topic, s.to} {
		if err := c.checkTopic(sess.Client(), t, -1); err != nil {
			return cmdFailure(stderr, "consume", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cp := &copier{sess: sess, s: s, stderr: stderr, timeout: c.timeout}
	stopProgress := startProgress(stderr, &cp.copied)
	start := time.Now()
	err = cp.run(ctx)
	stopProgress()
	records, bytes := cp.copied.records.Load(), cp.copied.bytes.Load()
	fmt.Fprintf(stdout, "Copied %s (%s) from %q to %q in %s with exactly-once (transactional id %q, group %q) %s.\n",
		plural(int(records), "record"), humanBytes(bytes), s.topic, s.to, plural(cp.txns, "committed transaction"),
		s.txnID, s.group, elapsedAndRates(records, bytes, time.Since(start)))
	if err != nil {
		if isFenced(err) {
			err = fencedErr(s.txnID, err)
		}
		return cmdFailure(stderr, "consume", c.explainErr(ctx, err))
	}
	return 0
}

// run copies until --max records are in committed transactions or ctx
// ends.
func (cp *copier) run(ctx context.Context) error {
	for cp.s.max == 0 || int(cp.copied.records.Load()) < cp.s.max {
		fs := cp.sess.PollRecords(ctx, pollSize(cp.s.max, int(cp.copied.records.Load())))
		if err := fetchErr(cp.s.topic, fs, cp.stderr); err != nil {
			return err
		}
		if recs := fs.Records(); len(recs) > 0 {
			if err := cp.transact(recs); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// transact copies one poll's records in one transaction.
func (cp *copier) transact(recs []*kgo.Record) error {
	if err := cp.sess.Begin(); err != nil {
		return err
	}
	var size int64
	for _, r := range recs {
		out := &kgo.Record{Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp}
		size += recordSize(out)
		cp.sess.Produce(context.Background(), out, cp.promise)
	}
	// Never cut short: a commit whose answer is lost has an unknown outcome.
	ctx, cancel := context.WithTimeout(context.Background(), cp.timeout)
	defer cancel()
	if err := cp.sess.Client().Flush(ctx); err != nil {
		return err
	}
	cp.mu.Lock()
	failure := cp.failure
	cp.mu.Unlock()
	committed, err := cp.sess.End(ctx, kgo.TransactionEndTry(failure == nil))
	switch {
	case err != nil:
		return err
	case failure != nil:
		return fmt.Errorf("write to %q: %w (the transaction was aborted)", cp.s.to, failure)
	case committed:
		cp.txns++
		cp.copied.add(int64(len(recs)), size)
	}
	return nil
}

func (cp *copier) promise(_ *kgo.Record, err error) {
	if err != nil {
		cp.mu.Lock()
		cp.failure = cmpErr(cp.failure, err)
		cp.mu.Unlock()
	}
}
