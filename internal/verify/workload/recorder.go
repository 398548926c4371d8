package workload

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/verify/history"
)

// recorder writes one process's ops. A write that fails ends the process:
// a client that cannot record what it did must not go on doing it, or
// the history would lie by omission.
type recorder struct {
	w    *history.Writer
	proc int
}

// openRecorder appends to the history file at path.
func openRecorder(path string, proc int) (*recorder, func() error, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return &recorder{w: history.NewWriter(f), proc: proc}, f.Close, nil
}

func (r *recorder) append(op history.Op) {
	op.Process = r.proc
	if err := r.w.Append(op); err != nil {
		fmt.Fprintf(os.Stderr, "verify worker p%d: cannot record: %v\n", r.proc, err)
		os.Exit(1)
	}
}

// sent records a send once its outcome is known. Only an acknowledgement
// is certain; any error may have left the record stored (a retry after a
// lost answer, a cancelled in-flight request), so it is info, and so is
// an acks=0 send, which nothing acknowledges.
func (r *recorder) sent(start time.Time, rec *kgo.Record, err error, acked bool, txn string) {
	op := history.Op{Kind: history.Send, Time: start, End: time.Now(), Txn: txn, Outcome: history.Info,
		Record: &history.Record{Topic: rec.Topic, Partition: rec.Partition, Offset: history.NoOffset, Value: string(rec.Value)}}
	switch {
	case err != nil:
		op.Error = err.Error()
	case acked:
		op.Outcome, op.Record.Offset = history.OK, rec.Offset
	}
	r.append(op)
}

// polled records what a poll returned, once processed.
func (r *recorder) polled(at time.Time, recs []*kgo.Record, group, txn string, rc bool) {
	op := history.Op{Kind: history.Poll, Time: at, End: time.Now(), Group: group, Txn: txn, Isolation: history.ReadUncommitted}
	if rc {
		op.Isolation = history.ReadCommitted
	}
	op.Records = make([]history.Record, len(recs))
	for i, rec := range recs {
		op.Records[i] = history.Record{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Value: string(rec.Value)}
	}
	r.append(op)
}

// committed records an offset commit of the positions after recs.
func (r *recorder) committed(start time.Time, recs []*kgo.Record, group, txn string, outcome history.Outcome, err error) {
	op := history.Op{Kind: history.Commit, Time: start, End: time.Now(), Group: group, Txn: txn, Outcome: outcome, Offsets: nextOffsets(recs)}
	if err != nil {
		op.Error = err.Error()
	}
	r.append(op)
}

func (r *recorder) txn(kind history.Kind, start time.Time, txn string, outcome history.Outcome, err error) {
	op := history.Op{Kind: kind, Time: start, Txn: txn, Outcome: outcome}
	if kind != history.TxnBegin {
		op.End = time.Now()
	}
	if err != nil {
		op.Error = err.Error()
	}
	r.append(op)
}

// moved records an assign or revoke; nothing for an empty change.
func (r *recorder) moved(kind history.Kind, tps []history.TopicPartition, group string) {
	if len(tps) > 0 {
		r.append(history.Op{Kind: kind, Time: time.Now(), Partitions: tps, Group: group})
	}
}

// onMove is a rebalance callback that records the partitions it moves.
func (r *recorder) onMove(kind history.Kind, group string) func(context.Context, *kgo.Client, map[string][]int32) {
	return func(_ context.Context, _ *kgo.Client, m map[string][]int32) { r.moved(kind, topicPartitions(m), group) }
}

func (r *recorder) fault(name, detail string) {
	r.append(history.Op{Kind: history.Fault, Time: time.Now(), Fault: name, Detail: detail, Outcome: history.OK})
}

// nextOffsets are the positions a commit of recs stores: one past the
// last record of each partition, as kgo's CommitRecords computes them.
func nextOffsets(recs []*kgo.Record) []history.Position {
	next := map[history.TopicPartition]int64{}
	for _, rec := range recs {
		tp := history.TopicPartition{Topic: rec.Topic, Partition: rec.Partition}
		next[tp] = max(next[tp], rec.Offset+1)
	}
	out := make([]history.Position, 0, len(next))
	for tp, off := range next {
		out = append(out, history.Position{Topic: tp.Topic, Partition: tp.Partition, Offset: off})
	}
	slices.SortFunc(out, func(a, b history.Position) int {
		return compareTP(history.TopicPartition{Topic: a.Topic, Partition: a.Partition}, history.TopicPartition{Topic: b.Topic, Partition: b.Partition})
	})
	return out
}

func compareTP(a, b history.TopicPartition) int {
	return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// partitionsOf lists the partitions recs came from, sorted.
func partitionsOf(recs []*kgo.Record) []history.TopicPartition {
	var tps []history.TopicPartition
	for _, p := range nextOffsets(recs) {
		tps = append(tps, history.TopicPartition{Topic: p.Topic, Partition: p.Partition})
	}
	return tps
}

// topicPartitions flattens a kgo assignment map, sorted.
func topicPartitions(m map[string][]int32) []history.TopicPartition {
	var tps []history.TopicPartition
	for t, ps := range m {
		for _, p := range ps {
			tps = append(tps, history.TopicPartition{Topic: t, Partition: p})
		}
	}
	slices.SortFunc(tps, compareTP)
	return tps
}
