// Command at-most-once is a consumer that processes every record at most
// once: none is ever processed twice, and after a crash some are never
// processed at all.
//
// The rule: commit a poll's offsets first, process its records after. The
// group's committed offset is where a restarted consumer (or the member
// that takes over the partition) resumes. Committing before processing
// means the committed offset is never behind the work, so nothing is
// processed again; a crash in the middle of processing leaves the rest of
// the poll behind the committed offset, and those records are skipped.
//
// Why not just enable.auto.commit=true? The client's periodic commit
// (every auto.commit.interval.ms, 5 s) stores what poll has returned so
// far, at a moment unrelated to processing. A crash after a record was
// processed but before the next periodic commit makes the group read it
// again: processed twice. Auto-commit is neither at-most-once nor
// at-least-once; only a commit placed before (or after) processing is.
//
// Usage:
//
//	at-most-once -brokers 127.0.0.1:9092 -topic metrics -group dashboard
//
// It prints one line per event:
//
//	polled 100 records
//	committed 0/34 1/33 2/35      per partition, the next offset the group will read
//	processed 2/41 value=123      partition 2, offset 41, and the record's value
//
// SIGINT or SIGTERM: it finishes the poll in hand (already committed),
// then exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	topic := flag.String("topic", "", "topic to consume")
	group := flag.String("group", "", "consumer group")
	instance := flag.String("instance", "", "group.instance.id (optional): a restarted consumer with the same id gets its partitions back at once")
	workMS := flag.Int("work-ms", 0, "milliseconds spent processing each record, standing in for real work")
	flag.Parse()
	if *topic == "" || *group == "" {
		flag.Usage()
		os.Exit(2)
	}

	opts := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*topic),
		// A group with no committed offset starts at the beginning of
		// the topic (auto.offset.reset=earliest).
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// enable.auto.commit=false: this program commits itself, before
		// processing (see the package comment for why auto-commit is not
		// at-most-once).
		kgo.DisableAutoCommit(),
	}
	if *instance != "" {
		// Static membership: the broker keeps the member's place in
		// the group, and a restart with the same id takes it back
		// without a rebalance. Without it the group waits for the dead
		// member's session timeout before its partitions are read again.
		opts = append(opts, kgo.InstanceID(*instance))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		fatal("client: %v", err)
	}
	defer cl.Close()

	// SIGINT/SIGTERM cancel ctx, which ends the poll below; a poll already
	// committed is processed first.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	processed, skipped := 0, 0
	for {
		fetches := cl.PollRecords(ctx, 100) // at most 100 records per poll (max.poll.records)
		if ctx.Err() != nil {
			// Records this poll may have returned are neither committed
			// nor processed: the next consumer of the group reads them.
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			fmt.Fprintf(os.Stderr, "at-most-once: fetch %s/%d: %v\n", t, p, err)
		})
		records := fetches.Records()
		if len(records) == 0 {
			continue
		}
		fmt.Printf("polled %d records\n", len(records))

		// 1. Commit first, synchronously: it returns once the broker has
		// stored the offsets, so the group will not hand these records
		// out again, to this consumer or any other.
		commitCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := cl.CommitRecords(commitCtx, records...)
		cancel()
		if err != nil {
			// The group rebalanced (or the broker is unreachable): the
			// partitions may belong to another member now, which will
			// read these records too. Processing them here could process
			// them twice, so they are dropped: the "at most" in
			// at-most-once.
			fmt.Fprintf(os.Stderr, "at-most-once: commit failed, these %d records are skipped: %v\n", len(records), err)
			skipped += len(records)
			continue
		}
		fmt.Printf("committed %s\n", nextOffsets(records))

		// 2. Then process. A crash from here on loses the rest of the
		// poll: its offsets are already committed.
		for _, r := range records {
			process(r, *workMS)
			processed++
		}
	}
	fmt.Printf("stopped after processing %d records (%d skipped after a failed commit)\n", processed, skipped)
}

// process is the application's work on one record. Here it prints the
// record; the sleep stands for the time real work takes, which is when a
// crash is most likely to hit.
func process(r *kgo.Record, workMS int) {
	time.Sleep(time.Duration(workMS) * time.Millisecond)
	fmt.Printf("processed %d/%d value=%s\n", r.Partition, r.Offset, r.Value)
}

// nextOffsets lists, per partition of records, the offset after the last
// record: what a commit of records stores, the next record to read.
func nextOffsets(records []*kgo.Record) string {
	next := map[int32]int64{}
	var order []int32
	for _, r := range records {
		if _, ok := next[r.Partition]; !ok {
			order = append(order, r.Partition)
		}
		next[r.Partition] = max(next[r.Partition], r.Offset+1)
	}
	parts := make([]string, len(order))
	for i, p := range order {
		parts[i] = fmt.Sprintf("%d/%d", p, next[p])
	}
	return strings.Join(parts, " ")
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "at-most-once: "+format+"\n", args...)
	os.Exit(1)
}
