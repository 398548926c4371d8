package workload

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DrainResult is what the final drain read.
type DrainResult struct {
	// Ends are the high watermarks it read to, per topic and partition.
	Ends map[string]map[int32]int64 `json:"ends"`
	// Records counts what it returned (aborted records not among them).
	Records int `json:"records"`
	// Unstable lists the partitions whose last stable offset stayed below
	// the high watermark (a transaction left open) until the drain gave
	// up waiting; the drain then read them to the last stable offset.
	Unstable []string `json:"unstable,omitempty"`
	// Short lists the partitions it could not read to the end in time.
	Short []string `json:"short,omitempty"`
}

// Drain is the verifier's own final read, once every client is stopped:
// a fresh consumer, in no group, reads every partition of topics from
// the start to the end at read_committed and records each poll (as
// process proc, with no group: the polls are no application's
// deliveries). It first waits, up to half of ctx's time, for every
// transaction to end (the last stable offset to reach the high
// watermark), so that it reads all that took effect.
func Drain(ctx context.Context, brokers []string, topics []string, proc int, history string) (DrainResult, error) {
	rec, closeFile, err := openRecorder(history, proc)
	if err != nil {
		return DrainResult{}, err
	}
	defer closeFile()
	// Control records are kept so that a partition ending in a
	// transaction marker is seen to reach its end.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return DrainResult{}, err
	}
	defer cl.Close()
	res := DrainResult{}
	deadline, _ := ctx.Deadline()
	stableBy, cancel := context.WithDeadline(ctx, time.Now().Add(time.Until(deadline)/2))
	defer cancel()
	if res.Ends, res.Unstable, err = stableEnds(stableBy, ctx, kadm.NewClient(cl), topics); err != nil {
		return res, err
	}
	starts := map[string]map[int32]kgo.Offset{}
	for t, ps := range res.Ends {
		starts[t] = map[int32]kgo.Offset{}
		for p := range ps {
			starts[t][p] = kgo.NewOffset().AtStart()
		}
	}
	cl.AddConsumePartitions(starts)
	res.Records, res.Short = readTo(ctx, cl, rec, res.Ends)
	return res, nil
}

// stableEnds waits until no transaction is open in topics and returns the
// end of each partition; at stableBy it gives up waiting and returns the
// last stable offsets of the unstable partitions instead.
func stableEnds(stableBy, ctx context.Context, adm *kadm.Client, topics []string) (map[string]map[int32]int64, []string, error) {
	for {
		hw, err := adm.ListEndOffsets(ctx, topics...)
		if err == nil {
			err = hw.Error()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("list end offsets: %w", err)
		}
		lso, err := adm.ListCommittedOffsets(ctx, topics...)
		if err == nil {
			err = lso.Error()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("list last stable offsets: %w", err)
		}
		ends, unstable := map[string]map[int32]int64{}, []string(nil)
		hw.Each(func(o kadm.ListedOffset) {
			if ends[o.Topic] == nil {
				ends[o.Topic] = map[int32]int64{}
			}
			ends[o.Topic][o.Partition] = o.Offset
			if s, ok := lso.Lookup(o.Topic, o.Partition); ok && s.Offset < o.Offset {
				unstable = append(unstable, fmt.Sprintf("%s/%d (stable to %d of %d)", o.Topic, o.Partition, s.Offset, o.Offset))
				ends[o.Topic][o.Partition] = s.Offset
			}
		})
		if len(unstable) == 0 || stableBy.Err() != nil {
			return ends, unstable, nil
		}
		time.Sleep(200 * time.Millisecond) // polling the broker: nothing to wait on from outside it
	}
}

// readTo polls until every partition's position reaches its end, or ctx
// ends; it returns the records read and the partitions left short.
func readTo(ctx context.Context, cl *kgo.Client, rec *recorder, ends map[string]map[int32]int64) (int, []string) {
	pos := map[string]map[int32]int64{}
	behind := func() []string {
		var short []string
		for t, ps := range ends {
			for p, end := range ps {
				if pos[t][p] < end {
					short = append(short, fmt.Sprintf("%s/%d (read to %d of %d)", t, p, pos[t][p], end))
				}
			}
		}
		return short
	}
	n := 0
	for len(behind()) > 0 && ctx.Err() == nil {
		recs, at := poll(ctx, cl)
		var data []*kgo.Record
		for _, r := range recs {
			if pos[r.Topic] == nil {
				pos[r.Topic] = map[int32]int64{}
			}
			pos[r.Topic][r.Partition] = r.Offset + 1
			if !r.Attrs.IsControl() {
				data = append(data, r)
			}
		}
		if len(data) > 0 {
			rec.polled(at, data, "", "", true)
			n += len(data)
		}
	}
	return n, behind()
}
