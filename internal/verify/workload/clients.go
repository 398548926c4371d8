package workload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/verify/history"
)

// pollWait bounds one poll, so a stop request is noticed soon.
const pollWait = 500 * time.Millisecond

// maxPoll bounds the records of one poll: a consumer killed at a crash
// point holds at most this many.
const maxPoll = 50

// baseOpts are every client's options: the brokers, and warnings to
// stderr (the runner keeps each process's stderr beside its history).
func baseOpts(c Config) []kgo.Opt {
	prefix := fmt.Sprintf("p%d ", c.Process)
	return []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelWarn, func() string { return prefix })),
	}
}

// groupOpts make a group member that notices a dead peer within the
// session timeout and records every partition a rebalance moves.
func groupOpts(c Config, rec *recorder) []kgo.Opt {
	return []kgo.Opt{
		kgo.OnPartitionsAssigned(rec.onMove(history.Assign, c.Group)),
		kgo.OnPartitionsRevoked(rec.onMove(history.Revoke, c.Group)),
		kgo.OnPartitionsLost(rec.onMove(history.Revoke, c.Group)),
		kgo.ConsumerGroup(c.Group),
		kgo.SessionTimeout(c.SessionTimeout),
		kgo.RebalanceTimeout(2 * c.SessionTimeout),
		kgo.HeartbeatInterval(max(c.SessionTimeout/6, 100*time.Millisecond)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), // every group reads from the start (docs/verify.md)
	}
}

func isolationOpt(c Config) kgo.Opt {
	if c.ReadCommitted {
		return kgo.FetchIsolationLevel(kgo.ReadCommitted())
	}
	return kgo.FetchIsolationLevel(kgo.ReadUncommitted())
}

// poller is a group consumer, a direct one or a transact session.
type poller interface {
	PollRecords(ctx context.Context, maxPollRecords int) kgo.Fetches
}

// poll returns what one poll brought and when it returned. Fetch errors
// are the client's to retry; they are only reported.
func poll(stop context.Context, cl poller) ([]*kgo.Record, time.Time) {
	ctx, cancel := context.WithTimeout(stop, pollWait)
	defer cancel()
	fs := cl.PollRecords(ctx, maxPoll)
	at := time.Now()
	fs.EachError(func(t string, p int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(os.Stderr, "fetch %s/%d: %v\n", t, p, err)
		}
	})
	return fs.Records(), at
}
