package workload

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/verify/history"
)

// commitTimeout bounds one offset commit; the client retries within it.
const commitTimeout = 10 * time.Second

// runConsumer reads c.Topic as a member of c.Group. Rebalances wait while
// it holds a poll (BlockRebalanceOnPoll), so its history is one story:
// poll, process, commit, then any revoke or assign.
func runConsumer(stop context.Context, c Config, rec *recorder, crash *crasher) error {
	opts := append(baseOpts(c), groupOpts(c, rec)...)
	opts = append(opts, isolationOpt(c), kgo.ConsumeTopics(c.Topic), kgo.BlockRebalanceOnPoll())
	if c.Consumer == AutoCommit {
		// Recording revokes replaces the client's own revoke callback,
		// which commits; commit as it would.
		opts = append(opts, kgo.AutoCommitInterval(autoCommitInterval), kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
			cl.CommitUncommittedOffsets(ctx)
			rec.moved(history.Revoke, topicPartitions(m), c.Group)
		}))
	} else {
		opts = append(opts, kgo.DisableAutoCommit())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.CloseAllowingRebalance() // leaves the group: a clean rebalance
	p := &processor{c: c, rec: rec, crash: crash, commit: func(ctx context.Context, recs []*kgo.Record) error {
		return cl.CommitRecords(ctx, recs...)
	}}
	for stop.Err() == nil {
		p.handle(poll(stop, cl))
		cl.AllowRebalance()
	}
	return nil
}

// processor processes and commits a poll in the order its setting says.
// Processing a poll is recording it: that is all the application does.
type processor struct {
	c      Config
	rec    *recorder
	crash  *crasher
	commit func(context.Context, []*kgo.Record) error
}

func (p *processor) handle(recs []*kgo.Record, at time.Time) {
	if len(recs) == 0 {
		return
	}
	switch p.c.Consumer {
	case CommitAfter:
		p.rec.polled(at, recs, p.c.Group, "", p.c.ReadCommitted)
		p.crash.at(beforeCommit, len(recs))
		p.commitPoll(recs)
		p.crash.at(afterCommit, len(recs))
	case AutoCommit: // the client commits on its own time
		p.rec.polled(at, recs, p.c.Group, "", p.c.ReadCommitted)
	case CommitBefore:
		p.crash.at(beforeCommit, len(recs))
		ok := p.commitPoll(recs)
		p.crash.at(afterCommit, len(recs))
		if ok { // else skip: it may be delivered again, and at most once is the promise
			p.rec.polled(at, recs, p.c.Group, "", p.c.ReadCommitted)
		}
	}
}

// commitPoll commits the positions after recs and records the outcome:
// ok, or info, since a commit that errs may have been stored by an
// attempt whose answer was lost.
func (p *processor) commitPoll(recs []*kgo.Record) bool {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	err := p.commit(ctx, recs)
	outcome := history.OK
	if err != nil {
		outcome = history.Info
	}
	p.rec.committed(start, recs, p.c.Group, "", outcome, err)
	return err == nil
}
