// Command dedup-postgres is an idempotent consumer: it reads deposits
// (key = account id, value = an amount such as "42" or "-7") as a member
// of a consumer group and adds each amount to the account's balance in
// PostgreSQL, exactly once per record, although Kafka may deliver a record
// more than once.
//
// The delivery is at-least-once: offsets are committed to Kafka only after
// the records' effects are committed to the database, so a consumer that
// dies in between is given those records again. What makes the effect
// happen once is the database: for every record, one transaction
//
//  1. inserts the record's identity (topic, partition, offset) into
//     processed_records, whose primary key refuses a second copy, and
//  2. only if that insert added a row, adds the amount to the balance.
//
// Both happen or neither does, so a redelivered record finds its identity
// already there and changes nothing. See README.md and schema.sql.
//
// Each record processed prints one line, which tests read to see how far
// the consumer got:
//
//	batch <n>                                        a poll returned n records
//	applied <partition> <offset> <account> <amount>  the effect is committed
//	duplicate <partition> <offset>                   seen before: no effect
//	committed                                        the batch's offsets are in Kafka
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap brokers, host:port[,host:port...]")
	topic := flag.String("topic", "deposits", "topic to read deposits from")
	group := flag.String("group", "balances", "consumer group id")
	session := flag.Duration("session-timeout", 45*time.Second, "how long the group waits for a member that stopped heartbeating (a crashed one) before its partitions go to another")
	dbURL := flag.String("db", "postgres://postgres@localhost:5432/postgres", "PostgreSQL URL (the tables of schema.sql must exist)")
	flag.Parse()

	// SIGINT or SIGTERM: finish the batch in hand, commit it, leave the
	// group. A SIGKILL stops at any point; that is what the database is for.
	stopping, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx := context.Background()

	db, err := pgx.Connect(ctx, *dbURL)
	if err != nil {
		fatal("connect to the database: %v", err)
	}
	defer db.Close(ctx)

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*topic),
		kgo.SessionTimeout(*session),
		kgo.HeartbeatInterval(min(3*time.Second, *session/3)),
		// enable.auto.commit=false: offsets are committed below, after
		// the database has the records' effects.
		kgo.DisableAutoCommit(),
		// A new group starts at the beginning of the topic.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Skip the records of aborted transactions.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// No rebalance between a poll and its commit: the partitions
		// whose records are in hand stay ours until AllowRebalance.
		kgo.BlockRebalanceOnPoll(),
	)
	if err != nil {
		fatal("kafka client: %v", err)
	}
	defer cl.Close() // leaves the group

	for stopping.Err() == nil {
		fetches := cl.PollRecords(stopping, 100)
		if stopping.Err() != nil {
			cl.AllowRebalance() // or Close, which leaves the group, would wait
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			fatal("fetch %s/%d: %v", t, p, err)
		})
		records := fetches.Records()
		if len(records) == 0 {
			cl.AllowRebalance()
			continue
		}
		fmt.Printf("batch %d\n", len(records))
		for _, r := range records {
			account := string(r.Key)
			amount, err := strconv.ParseInt(string(r.Value), 10, 64)
			if err != nil || account == "" {
				// A record no retry can fix: log it and go on, or it
				// would stop the partition for ever.
				fmt.Fprintf(os.Stderr, "skip %s/%d@%d: key %q value %q is not an account and an amount\n",
					r.Topic, r.Partition, r.Offset, r.Key, r.Value)
				continue
			}
			applied, err := apply(ctx, db, r, account, amount)
			if err != nil {
				// Exit without committing the offset: the record comes
				// back at the next start, and apply is safe to repeat.
				fatal("apply %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err)
			}
			if applied {
				fmt.Printf("applied %d %d %s %d\n", r.Partition, r.Offset, account, amount)
			} else {
				fmt.Printf("duplicate %d %d\n", r.Partition, r.Offset)
			}
		}
		// Only now tell Kafka how far we got. Dying before this line
		// means the batch is delivered again: at-least-once delivery,
		// made effectively-once by apply.
		if err := cl.CommitRecords(ctx, records...); err != nil {
			fatal("commit offsets: %v", err)
		}
		fmt.Println("committed")
		cl.AllowRebalance()
	}
}

// apply adds amount to account's balance and records r's identity, in one
// transaction. It returns false, changing nothing, when r was processed
// before.
func apply(ctx context.Context, db *pgx.Conn, r *kgo.Record, account string, amount int64) (bool, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx) // does nothing once committed

	// The unique constraint decides. Two consumers inserting the same
	// identity at once (one of them a member the group has already
	// replaced) are serialized by it: the second waits for the first to
	// commit, then inserts nothing.
	tag, err := tx.Exec(ctx,
		`INSERT INTO processed_records (topic, partition, record_offset)
		 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		r.Topic, r.Partition, r.Offset)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, nil // processed before: roll back, no second effect
	}

	if _, err := tx.Exec(ctx,
		`INSERT INTO accounts (id, balance) VALUES ($1, $2)
		 ON CONFLICT (id) DO UPDATE SET balance = accounts.balance + excluded.balance`,
		account, amount); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "dedup-postgres: "+format+"\n", args...)
	os.Exit(1)
}
