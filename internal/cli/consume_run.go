package cli

// The consume loop: poll, then hand the records out and commit them in the
// order the guarantee needs. With a group, rebalances are held off from a
// poll until its records are handed out and committed
// (BlockRebalanceOnPoll), so a commit is never for partitions the member
// lost in between.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type consumer struct {
	cl      *kgo.Client
	s       consumeSpec
	out     *recordWriter
	stderr  io.Writer
	timeout time.Duration
	n       int // records handed out
}

func consume(c *conn, s consumeSpec, stdout, stderr io.Writer) int {
	opts := append(consumerSettings(s.g, s.group, s.session), kgo.ConsumeTopics(s.topic),
		kgo.ConsumeStartOffset(s.from), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if s.group != "" {
		opts = append(opts, kgo.BlockRebalanceOnPoll())
	}
	cl, err := c.client("sluice-consume", opts...)
	if err != nil {
		return cmdFailure(stderr, "consume", err)
	}
	defer cl.Close() // leaves the group; commits nothing
	if err := c.checkTopic(cl, s.topic, -1); err != nil {
		return cmdFailure(stderr, "consume", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := &consumer{cl: cl, s: s, out: newRecordWriter(stdout, s.format, s.sep), stderr: stderr, timeout: c.timeout}
	if err := r.run(ctx); err != nil {
		return cmdFailure(stderr, "consume", c.explainErr(ctx, err))
	}
	return 0
}

// run polls until --max records were handed out or ctx ends.
func (r *consumer) run(ctx context.Context) error {
	for r.s.max == 0 || r.n < r.s.max {
		fs := r.cl.PollRecords(ctx, pollSize(r.s.max, r.n))
		err := fetchErr(r.s.topic, fs, r.stderr)
		if err == nil {
			err = r.hand(fs.Records())
		}
		r.cl.AllowRebalance()
		if err != nil || ctx.Err() != nil {
			return err
		}
	}
	return nil
}

// maxPollRecords is Kafka's max.poll.records default: the most records
// handed out between two commits, so the most an at-most-once consumer
// loses, or an at-least-once consumer hands out again, when it crashes.
const maxPollRecords = 500

// pollSize is how many records to poll for after n of max (0: no limit).
func pollSize(max, n int) int {
	if max == 0 {
		return maxPollRecords
	}
	return min(maxPollRecords, max-n)
}

// hand prints the records and commits them, in the guarantee's order.
func (r *consumer) hand(recs []*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if r.s.group != "" && r.s.g == atMostOnce {
		if err := r.commit(recs); err != nil {
			return fmt.Errorf("%w; the records were not printed", err)
		}
	}
	if err := r.print(recs); err != nil {
		return err
	}
	r.n += len(recs)
	if r.s.group != "" && r.s.g != atMostOnce {
		if err := r.commit(recs); err != nil {
			return fmt.Errorf("%w; the records printed since the last commit will be delivered again", err)
		}
	}
	return nil
}

func (r *consumer) print(recs []*kgo.Record) error {
	if err := r.out.write(recs); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if err := r.out.flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// commit is never cut short by an interrupt: the records it covers were
// (at-least-once) or are about to be (at-most-once) handed out.
func (r *consumer) commit(recs []*kgo.Record) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	if err := r.cl.CommitRecords(ctx, recs...); err != nil {
		return fmt.Errorf("commit to group %q: %w", r.s.group, err)
	}
	return nil
}

// fetchErr returns the first error of a poll that ends consuming. A
// context ending is an interrupt, not an error; data loss (a log cut under
// the consumer, reported by franz-go, KIP-320) is told on stderr and
// consuming goes on from where the log now continues.
func fetchErr(topic string, fs kgo.Fetches, stderr io.Writer) error {
	var first error
	fs.EachError(func(t string, p int32, err error) {
		var loss *kgo.ErrDataLoss
		switch {
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, kgo.ErrClientClosed):
		case errors.As(err, &loss):
			fmt.Fprintf(stderr, "sluice consume: warning: %v\n", err)
		case first == nil:
			first = topicErr(topic, fmt.Errorf("partition %d: %w", p, err))
		}
	})
	return first
}
