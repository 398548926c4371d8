package brokertest

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// StableCommitted returns the group's committed offsets of every partition
// of topic (a partition without a commit is absent), read as a consumer
// about to start reads them: an OffsetFetch with require_stable (KIP-447)
// naming each partition.
//
// A partition for which an undecided transaction holds an offset answers
// UNSTABLE_OFFSET_COMMIT until the transaction's marker reaches the
// offsets partition. That marker may come after the output's markers (the
// coordinator writes them concurrently, after EndTxn has answered), so a
// read_committed reader can see a transaction's output before its offsets
// are stable; for a producer that died between its TxnOffsetCommit and
// its EndTxn, it comes when the transaction is aborted (fenced, or timed
// out). Like a consumer, StableCommitted asks again while any partition is
// unstable, for up to d; any other error fails the test.
//
// The partitions are named because an OffsetFetch for all of a group's
// topics lists only the partitions with a committed offset, as Kafka's
// does: one whose first commit is still pending is left out, not answered
// UNSTABLE_OFFSET_COMMIT, and would pass for one never committed.
func StableCommitted(t testing.TB, addr, group, topic string, d time.Duration) map[int32]int64 {
	t.Helper()
	ctx := Context(t, d)
	cl := Client(t, addr)
	topics, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err == nil {
		err = topics.Error()
	}
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = topic, topics[topic].Partitions.Numbers()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group, req.Topics, req.RequireStable = group, []kmsg.OffsetFetchRequestTopic{rt}, true
	for backoff := 10 * time.Millisecond; ; backoff = min(2*backoff, 250*time.Millisecond) {
		resp, err := req.RequestWith(ctx, cl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err != nil {
			t.Fatalf("fetch offsets of %s: %v", group, err)
		}
		out, unstable := stableOffsets(t, group, resp)
		if !unstable {
			return out
		}
		select {
		case <-ctx.Done():
			t.Fatalf("fetch offsets of %s: still UNSTABLE_OFFSET_COMMIT after %v", group, d)
		case <-time.After(backoff): // a retriable answer: ask again, as a consumer does
		}
	}
}

// stableOffsets reads an OffsetFetch answer: the committed offsets, and
// whether a partition answered UNSTABLE_OFFSET_COMMIT. Any other
// partition error fails the test.
func stableOffsets(t testing.TB, group string, resp *kmsg.OffsetFetchResponse) (out map[int32]int64, unstable bool) {
	t.Helper()
	out = map[int32]int64{}
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			err := kerr.ErrorForCode(p.ErrorCode)
			switch {
			case errors.Is(err, kerr.UnstableOffsetCommit):
				unstable = true
			case err != nil:
				t.Fatalf("fetch offsets of %s %s/%d: %v", group, rt.Topic, p.Partition, err)
			case p.Offset >= 0:
				out[p.Partition] = p.Offset
			}
		}
	}
	return out, unstable
}
