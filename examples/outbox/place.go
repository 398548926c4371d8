package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// The statuses an order goes through, in order; each change is an event.
var statuses = []string{"placed", "paid", "shipped"}

// place is the application: -orders orders, each taken through every
// status by one of -workers concurrent workers. A worker changes each of
// its orders in turn (all placed, then all paid, ...), so the events of
// different orders interleave in the outbox.
//
// It prints one line per committed change:
//
//	event <outbox id> <order id> <status> <version>
func place(args []string) {
	fs := flag.NewFlagSet("place", flag.ExitOnError)
	dbURL := fs.String("db", "postgres://postgres@localhost:5432/postgres", "PostgreSQL URL (the tables of schema.sql must exist)")
	orders := fs.Int("orders", 10, "how many orders to place")
	workers := fs.Int("workers", 4, "concurrent database connections making changes")
	prefix := fs.String("prefix", "order", "order ids are <prefix>-1, <prefix>-2, ...; change it to place more orders in the same database")
	fs.Parse(args)
	ctx := context.Background()

	var wg sync.WaitGroup
	var out sync.Mutex // one line at a time on stdout
	for w := range *workers {
		wg.Go(func() {
			db, err := pgx.Connect(ctx, *dbURL)
			if err != nil {
				fatal("connect to the database: %v", err)
			}
			defer db.Close(ctx)
			for _, status := range statuses {
				for i := w + 1; i <= *orders; i += *workers {
					order := fmt.Sprintf("%s-%d", *prefix, i)
					id, version, err := change(ctx, db, order, status)
					if err != nil {
						fatal("%s %s: %v", order, status, err)
					}
					out.Lock()
					fmt.Printf("event %d %s %s %d\n", id, order, status, version)
					out.Unlock()
				}
			}
		})
	}
	wg.Wait()
}

// event is the payload of an outbox row, the value of the Kafka record.
type event struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	Version int    `json:"version"`
}

// change sets order's status and adds the event that says so to the
// outbox, in one transaction. It returns the outbox row's id and the
// order's new version.
func change(ctx context.Context, db *pgx.Conn, order, status string) (int64, int, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback(ctx) // does nothing once committed

	// 1. The business change. Writing the order's row first also locks
	// it until commit, so two changes of one order never overlap: the
	// second waits, then takes its outbox id after the first committed.
	// One order's outbox ids therefore grow in commit order, which is
	// the order the relay publishes in. (Ids of different orders can
	// commit out of order; the relay picks a late one up next round, and
	// order between different orders is not promised.)
	var version int
	if status == statuses[0] {
		err = tx.QueryRow(ctx,
			`INSERT INTO orders (id, status, version) VALUES ($1, $2, 1) RETURNING version`,
			order, status).Scan(&version)
	} else {
		err = tx.QueryRow(ctx,
			`UPDATE orders SET status = $2, version = version + 1 WHERE id = $1 RETURNING version`,
			order, status).Scan(&version)
	}
	if err != nil {
		return 0, 0, err
	}

	// 2. The event, in the same transaction.
	payload, err := json.Marshal(event{OrderID: order, Status: status, Version: version})
	if err != nil {
		return 0, 0, err
	}
	var id int64
	if err := tx.QueryRow(ctx,
		`INSERT INTO outbox (aggregate_id, event_type, payload) VALUES ($1, $2, $3) RETURNING id`,
		order, "order_"+status, payload).Scan(&id); err != nil {
		return 0, 0, err
	}

	// 3. Both, or (on any error above, or a crash before this) neither.
	return id, version, tx.Commit(ctx)
}
