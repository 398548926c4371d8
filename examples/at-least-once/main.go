// Command at-least-once is a consumer that processes every record at least
// once: none is ever skipped, and after a crash some are processed again.
//
// The rule: process a poll's records first, commit their offsets after.
// The group's committed offset is where a restarted consumer (or the
// member that takes over the partition) resumes. Committing only what has
// been processed means the committed offset is never ahead of the work, so
// nothing is skipped; a crash between processing and the commit leaves it
// behind, and the records in between are processed again.
//
// Usage:
//
//	at-least-once -brokers 127.0.0.1:9092 -topic orders -group billing
//
// It prints one line per event:
//
//	polled 100 records
//	processed 2/41 value=123      partition 2, offset 41, and the record's value
//	committed 0/34 1/33 2/35      per partition, the next offset the group will read
//
// SIGINT or SIGTERM: it finishes and commits the poll in hand, then exits.
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
		// the topic (auto.offset.reset=earliest), so records written
		// before the first start are not skipped.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// enable.auto.commit=false. The client's periodic commit
		// commits what poll returned, whether or not it has been
		// processed yet: a crash after such a commit skips the records
		// that were still being worked on. This program commits
		// itself, after processing.
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
	// returned is processed and committed first.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	processed := 0
	for {
		fetches := cl.PollRecords(ctx, 100) // at most 100 records per poll (max.poll.records)
		if ctx.Err() != nil {
			// Records this poll may have returned are neither processed
			// nor committed: the next consumer of the group reads them.
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			fmt.Fprintf(os.Stderr, "at-least-once: fetch %s/%d: %v\n", t, p, err)
		})
		records := fetches.Records()
		if len(records) == 0 {
			continue
		}
		fmt.Printf("polled %d records\n", len(records))

		// 1. Process every record.
		for _, r := range records {
			process(r, *workMS)
			processed++
		}

		// 2. Then commit, synchronously: the commit is acknowledged only
		// once the broker has stored it. A crash before this line means
		// the whole poll is read again by the next consumer.
		commitCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := cl.CommitRecords(commitCtx, records...)
		cancel()
		if err != nil {
			// The group rebalanced (or the broker is unreachable): the
			// partitions may belong to another member now, which will
			// process these records again. That is the "at least" in
			// at-least-once; nothing is lost.
			fmt.Fprintf(os.Stderr, "at-least-once: commit failed, these %d records will be read again: %v\n", len(records), err)
			continue
		}
		fmt.Printf("committed %s\n", nextOffsets(records))
	}
	fmt.Printf("stopped after processing %d records\n", processed)
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
	fmt.Fprintf(os.Stderr, "at-least-once: "+format+"\n", args...)
	os.Exit(1)
}
