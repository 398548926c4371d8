package workload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/verify/history"
)

// runAssigned reads every partition of c.Topic by manual assignment. With
// a group (the Assigned role) it resumes from the group's committed
// offsets and commits to the group from outside group membership
// (generation -1, as admin tools and simple consumers do); one such
// process at a time reads for the group. Without one (the Observer) it
// reads from the start and commits nothing: its polls are the run's own
// reads, not deliveries.
func runAssigned(stop context.Context, c Config, rec *recorder, crash *crasher) error {
	cl, err := kgo.NewClient(append(baseOpts(c), isolationOpt(c))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	starts, err := startOffsets(stop, adm, c)
	if err != nil {
		return err
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{c.Topic: starts})
	all := make([]history.TopicPartition, c.Partitions)
	for p := range all {
		all[p] = history.TopicPartition{Topic: c.Topic, Partition: int32(p)}
	}
	rec.moved(history.Assign, all, c.Group)
	p := &processor{c: c, rec: rec, crash: crash, commit: func(ctx context.Context, recs []*kgo.Record) error {
		return commitOutside(ctx, adm, c.Group, recs)
	}}
	auto := newAutoCommitter(c)
	for stop.Err() == nil {
		recs, at := poll(stop, cl)
		if c.Group == "" {
			if len(recs) > 0 {
				rec.polled(at, recs, "", "", c.ReadCommitted)
			}
			continue
		}
		auto.polled(recs)
		p.handle(recs, at)
		if due := auto.due(); len(due) > 0 {
			p.commitPoll(due)
		}
	}
	return nil
}

// autoCommitter does for the manually assigned consumer what a group
// client's auto-commit does: every autoCommitInterval, commit the
// position after the last records polled, processed or not.
type autoCommitter struct {
	on   bool
	next time.Time
	last map[int32]*kgo.Record // the last record polled of each partition, since the last commit
}

func newAutoCommitter(c Config) *autoCommitter {
	return &autoCommitter{on: c.Consumer == AutoCommit, next: time.Now().Add(autoCommitInterval), last: map[int32]*kgo.Record{}}
}

func (a *autoCommitter) polled(recs []*kgo.Record) {
	if !a.on {
		return
	}
	for _, r := range recs {
		a.last[r.Partition] = r
	}
}

// due returns the records whose positions to commit now, if it is time.
func (a *autoCommitter) due() []*kgo.Record {
	if !a.on || time.Now().Before(a.next) || len(a.last) == 0 {
		return nil
	}
	a.next = time.Now().Add(autoCommitInterval)
	recs := make([]*kgo.Record, 0, len(a.last))
	for _, r := range a.last {
		recs = append(recs, r)
	}
	clear(a.last)
	return recs
}

// startOffsets are the group's committed offsets, or the start of each
// partition it has none for. The broker may be down (a fault), so it
// tries until stop.
func startOffsets(stop context.Context, adm *kadm.Client, c Config) (map[int32]kgo.Offset, error) {
	starts := map[int32]kgo.Offset{}
	for p := range c.Partitions {
		starts[p] = kgo.NewOffset().AtStart()
	}
	if c.Group == "" {
		return starts, nil
	}
	for {
		ctx, cancel := context.WithTimeout(stop, 5*time.Second)
		got, err := adm.FetchOffsets(ctx, c.Group)
		cancel()
		if err == nil {
			err = got.Error()
		}
		if errors.Is(err, kerr.GroupIDNotFound) {
			// kfake's answer for a group it does not know yet, where
			// Kafka answers offset -1 and no error: either way the group
			// has committed nothing.
			return starts, nil
		}
		if err == nil {
			got.Each(func(o kadm.OffsetResponse) {
				if o.Topic == c.Topic && o.At >= 0 {
					starts[o.Partition] = kgo.NewOffset().At(o.At)
				}
			})
			return starts, nil
		}
		fmt.Fprintf(os.Stderr, "fetch the committed offsets of %s: %v\n", c.Group, err)
		select {
		case <-stop.Done():
			return nil, stop.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// commitOutside commits the positions after recs to group without
// membership.
func commitOutside(ctx context.Context, adm *kadm.Client, group string, recs []*kgo.Record) error {
	offsets := kadm.Offsets{}
	for _, p := range nextOffsets(recs) {
		offsets.Add(kadm.Offset{Topic: p.Topic, Partition: p.Partition, At: p.Offset, LeaderEpoch: -1})
	}
	resp, err := adm.CommitOffsets(ctx, group, offsets)
	if err != nil {
		return err
	}
	return resp.Error()
}
