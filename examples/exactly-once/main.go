// Command exactly-once reads a topic, transforms each record and writes
// the result to another topic so that every input record's result is in
// the output exactly once, whatever crashes: the consume-transform-produce
// loop with Kafka transactions.
//
// The rule: the output records and the input offsets are committed in one
// transaction. A transaction either commits (outputs visible to
// read_committed readers, offsets moved) or aborts (outputs hidden for
// ever, offsets unchanged, so the input is read again). A crash in the
// middle of a transaction leaves it open; the next instance with the same
// transactional.id aborts it when it starts. This holds from Kafka to
// Kafka only: an effect outside Kafka (a database write, an e-mail) is not
// in the transaction, see the idempotent consumer examples for that.
//
// Readers of the output must use isolation.level=read_committed: at the
// default, read_uncommitted, they also see the records of aborted
// transactions, which here are the duplicates a crash leaves behind.
//
// Usage:
//
//	exactly-once -brokers 127.0.0.1:9092 -in orders -out invoices -group invoicer -transactional-id invoicer-1
//
// It prints one line per event:
//
//	polled 100 records
//	processed 2/41 value=123                               input partition 2, offset 41, and its value
//	committed 0/34 1/33 2/35 -- transaction of 100 records  per input partition, the next offset the group will read
//	aborted transaction of 100 records                    they will be read again
//
// SIGINT or SIGTERM: it finishes and commits the transaction in hand, then
// exits.
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
	in := flag.String("in", "", "input topic")
	out := flag.String("out", "", "output topic")
	group := flag.String("group", "", "consumer group")
	txnID := flag.String("transactional-id", "", "transactional.id: the same for every restart of this instance, different between instances")
	instance := flag.String("instance", "", "group.instance.id (optional): a restarted consumer with the same id gets its partitions back at once")
	workMS := flag.Int("work-ms", 0, "milliseconds spent processing each record, standing in for real work")
	flag.Parse()
	if *in == "" || *out == "" || *group == "" || *txnID == "" {
		flag.Usage()
		os.Exit(2)
	}

	opts := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		// transactional.id makes the producer transactional (and
		// idempotent, acks=all). When an instance starts, the broker
		// aborts whatever transaction the id left open and fences the
		// previous holder of the id: a paused "zombie" of this instance
		// can no longer write or commit.
		kgo.TransactionalID(*txnID),
		// A transaction left open longer than this is aborted by the
		// broker (transaction.timeout.ms).
		kgo.TransactionTimeout(30 * time.Second),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*in),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// The input may itself be written in transactions: read only
		// what was committed (isolation.level=read_committed).
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// When partitions move, the new owner waits for transactions
		// that are committing offsets for them, instead of starting from
		// an offset about to be replaced (KIP-447; a
		// GroupTransactSession asks for it anyway).
		kgo.RequireStableFetchOffsets(),
	}
	if *instance != "" {
		// Static membership: a restart with the same id takes its
		// partitions back without a rebalance.
		opts = append(opts, kgo.InstanceID(*instance))
	}
	// A GroupTransactSession is a client whose commits of consumed
	// offsets go into the producer's transaction (sendOffsetsToTransaction)
	// instead of straight to the group; it also aborts a transaction
	// during which the group rebalanced, since the partitions it read may
	// belong to another member by then. There is no enable.auto.commit:
	// offsets move only with a committed transaction.
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		fatal("client: %v", err)
	}
	defer sess.Close()

	// SIGINT/SIGTERM cancel ctx, which ends the poll below; a transaction
	// already begun is finished first.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	committedRecords := 0
	for {
		fetches := sess.PollRecords(ctx, 100) // at most 100 records per transaction
		if ctx.Err() != nil {
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			fmt.Fprintf(os.Stderr, "exactly-once: fetch %s/%d: %v\n", t, p, err)
		})
		records := fetches.Records()
		if len(records) == 0 {
			continue
		}
		fmt.Printf("polled %d records\n", len(records))

		if err := sess.Begin(); err != nil {
			fatal("begin transaction: %v", err)
		}
		// Produce one output record per input record, inside the
		// transaction. A crash from here until End leaves the
		// transaction open: its records are in the output topic, but
		// no read_committed reader will ever see them.
		produceCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		for _, r := range records {
			sess.Produce(produceCtx, transform(r, *out, *workMS), func(_ *kgo.Record, err error) {
				if err != nil {
					// End sees the failure too and aborts.
					fmt.Fprintf(os.Stderr, "exactly-once: produce: %v\n", err)
				}
			})
		}
		// End flushes the records, adds the offsets after records to the
		// transaction (TxnOffsetCommit) and commits it; or aborts it if
		// anything failed or the group rebalanced, and then rewinds the
		// consumer to the last committed offsets, so that nothing of
		// the aborted transaction is skipped.
		committed, err := sess.End(produceCtx, kgo.TryCommit)
		cancel()
		if err != nil {
			// Not retryable: the id was fenced by a newer instance, or
			// the broker was unreachable for too long. Whatever this
			// instance did is aborted; the next one starts over from the
			// committed offsets.
			fatal("end transaction: %v", err)
		}
		if !committed {
			fmt.Printf("aborted transaction of %d records\n", len(records))
			continue
		}
		committedRecords += len(records)
		fmt.Printf("committed %s -- transaction of %d records\n", nextOffsets(records), len(records))
	}
	fmt.Printf("stopped after committing %d records\n", committedRecords)
}

// transform is the application's work on one record: here the output is
// the input's key and value, with a header naming the input record it came
// from; the sleep stands for the time real work takes.
func transform(r *kgo.Record, out string, workMS int) *kgo.Record {
	time.Sleep(time.Duration(workMS) * time.Millisecond)
	fmt.Printf("processed %d/%d value=%s\n", r.Partition, r.Offset, r.Value)
	return &kgo.Record{
		Topic: out,
		Key:   r.Key,
		Value: r.Value,
		Headers: []kgo.RecordHeader{
			{Key: "source", Value: fmt.Appendf(nil, "%d/%d", r.Partition, r.Offset)},
		},
	}
}

// nextOffsets lists, per partition of records, the offset after the last
// record: what the transaction commits for the group.
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
	fmt.Fprintf(os.Stderr, "exactly-once: "+format+"\n", args...)
	os.Exit(1)
}
