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

// relayLock is the SQL that makes a relay the only one publishing. Two
// relays would publish the same rows, interleaved, out of order. The lock
// belongs to the relay's database session: PostgreSQL releases it when
// the session ends, also when the relay is killed, and a relay started
// meanwhile waits for it.
const relayLock = `SELECT pg_advisory_lock(hashtext('outbox relay'))`

// relay publishes the outbox, round after round: read up to -batch unsent
// rows in id order, produce them, wait for Kafka's acknowledgement of
// every one, mark them sent. With nothing to send it looks again every
// -poll.
//
// It prints, for tests and for people watching:
//
//	published <id> <id> ...   Kafka acknowledged these rows (not marked yet)
//	marked <n>                the n rows just published are marked sent
//	idle                      no unsent row left (printed once per idle spell)
func relay(args []string) {
	fs := flag.NewFlagSet("relay", flag.ExitOnError)
	brokers := fs.String("brokers", "127.0.0.1:9092", "bootstrap brokers, host:port[,host:port...]")
	topic := fs.String("topic", "orders", "topic to publish the events to")
	dbURL := fs.String("db", "postgres://postgres@localhost:5432/postgres", "PostgreSQL URL (the tables of schema.sql must exist)")
	batch := fs.Int("batch", 100, "most rows published per round")
	poll := fs.Duration("poll", 200*time.Millisecond, "how often to look for new rows when there were none")
	fs.Parse(args)

	// SIGINT or SIGTERM: stop between rounds, or give up waiting for an
	// acknowledgement (those rows stay unsent and are published again).
	stopping, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx := context.Background()

	db, err := pgx.Connect(ctx, *dbURL)
	if err != nil {
		fatal("connect to the database: %v", err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(stopping, relayLock); err != nil {
		if stopping.Err() != nil {
			return
		}
		fatal("relay lock: %v", err)
	}

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.DefaultProduceTopic(*topic),
		// acks=all: an acknowledged record is durable, so a row may be
		// marked sent once acknowledged.
		kgo.RequiredAcks(kgo.AllISRAcks()),
		// enable.idempotence=true is franz-go's default: the client's own
		// retries neither duplicate nor reorder records in a partition.
		// The records go to the partition their key hashes to (the
		// default partitioner), so one order's events share a partition
		// and keep their order there.
	)
	if err != nil {
		fatal("kafka client: %v", err)
	}
	defer cl.Close()

	idle := false
	for stopping.Err() == nil {
		rows, err := unsent(ctx, db, *batch)
		if err != nil {
			fatal("read the outbox: %v", err)
		}
		if len(rows) == 0 {
			if !idle {
				fmt.Println("idle")
				idle = true
			}
			select {
			case <-stopping.Done():
			case <-time.After(*poll):
			}
			continue
		}
		idle = false

		// Publish the round and wait for every acknowledgement. Records
		// to one partition are sent in the order given, which is id
		// order.
		records := make([]*kgo.Record, len(rows))
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.id
			records[i] = &kgo.Record{
				Key:   []byte(r.aggregateID),
				Value: r.payload,
				Headers: []kgo.RecordHeader{
					{Key: "outbox-id", Value: []byte(strconv.FormatInt(r.id, 10))},
					{Key: "event-type", Value: []byte(r.eventType)},
				},
			}
		}
		if err := cl.ProduceSync(stopping, records...).FirstErr(); err != nil {
			if stopping.Err() != nil {
				break // not marked: the next relay publishes them again
			}
			// Not acknowledged: some may be in Kafka, none is marked, so
			// the next relay publishes them all again. Going on with
			// later rows instead could put an order's events out of
			// order.
			fatal("publish: %v", err)
		}
		fmt.Println("published", strings.Trim(fmt.Sprint(ids), "[]"))

		// A crash here, after the acknowledgement and before the mark
		// commits, is why an event can reach Kafka twice.
		if _, err := db.Exec(ctx, `UPDATE outbox SET sent_at = now() WHERE id = ANY($1)`, ids); err != nil {
			fatal("mark sent: %v", err)
		}
		fmt.Println("marked", len(ids))
	}
}

// row is an outbox row to publish.
type row struct {
	id          int64
	aggregateID string
	eventType   string
	payload     []byte
}

// unsent returns up to limit unsent rows, lowest id first.
func unsent(ctx context.Context, db *pgx.Conn, limit int) ([]row, error) {
	rs, err := db.Query(ctx,
		`SELECT id, aggregate_id, event_type, payload::text FROM outbox
		 WHERE sent_at IS NULL ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rs, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.aggregateID, &x.eventType, &x.payload)
		return x, err
	})
}
