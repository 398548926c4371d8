package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/brokertest"
	"sluice/internal/pgtest"
)

// The application places 40 orders (120 events, four concurrent writers),
// then 20 more while relays publish them. Three relays in turn are killed
// with SIGKILL after Kafka acknowledged a round, before the round's rows
// are marked sent (each after one round it did mark), and a fourth
// publishes the rest. Without deduplication the topic holds every event at
// least once, and the rows a killed relay had published without marking
// them are in it twice; deduplicated by outbox id, it holds every event
// exactly once, each order's events in one partition in the order of their
// ids.
func TestOutboxRelayKilledAndRestarted(t *testing.T) {
	const orders, lateOrders, batch, partitions = 40, 20, 20, 3
	// A relay killed while a statement of its runs has that statement
	// cancelled at once, as a server does when TCP keepalive notices a dead
	// client; without it, a statement waiting for a lock would run to its
	// end after the relay is gone.
	pg := pgtest.Start(t, "client_connection_check_interval=100ms")
	pg.ExecFile(t, "schema.sql")
	b := brokertest.Start(t)
	addr := b.Addr()
	adm := brokertest.Admin(t, addr)
	topic := "orders"
	if _, err := adm.CreateTopic(brokertest.Context(t, 10*time.Second), partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	bin := brokertest.BuildPackage(t, "./examples/outbox")
	relayArgs := []string{"relay", "-brokers", addr, "-topic", topic, "-db", pg.URL, "-batch", strconv.Itoa(batch), "-poll", "20ms"}
	deadline := time.After(time.Minute)
	db := pg.Connect(t)
	ctx := brokertest.Context(t, 2*time.Minute)

	place := func(prefix string, n int) *brokertest.Child {
		return brokertest.StartChild(t, "place "+prefix, bin, "place", "-db", pg.URL, "-prefix", prefix, "-orders", strconv.Itoa(n), "-workers", "4")
	}
	place("order", orders).Wait(t, time.Minute)
	late := place("late", lateOrders) // goes on while the relays run

	// The fault, three times: a relay killed after Kafka acknowledged its
	// round, before the round's rows are marked sent. To land the kill
	// exactly there, the test holds a share lock on the unsent rows but
	// the first batch: the relay publishes and marks its first round, then
	// publishes its second as usual, but its UPDATE marking that one waits
	// for the lock, and the relay is killed while it waits.
	republish := map[int64]bool{} // rows published and not marked sent
	for round := 1; round <= 3; round++ {
		hold, err := pg.Connect(t).Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var held int
		// (Not "ORDER BY id OFFSET n FOR SHARE": that locks the rows it
		// skips too.)
		if err := hold.QueryRow(ctx, `WITH l AS (
			SELECT id FROM outbox WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL ORDER BY id OFFSET $1) FOR SHARE
		) SELECT count(*) FROM l`, batch).Scan(&held); err != nil || held == 0 {
			t.Fatalf("lock the unsent rows: %d rows, %v", held, err)
		}

		relay := brokertest.StartChild(t, fmt.Sprintf("relay %d", round), bin, relayArgs...)
		var published []int64
		for marked := false; published == nil; {
			switch f := strings.Fields(relay.Next(t, deadline)); {
			case f[0] == "marked":
				marked = true
			case f[0] == "published" && marked:
				for _, s := range f[1:] {
					id, err := strconv.ParseInt(s, 10, 64)
					if err != nil {
						t.Fatal(err)
					}
					published = append(published, id)
				}
			}
		}
		relay.Kill()

		// Taking the relay lock waits until the killed relay's database
		// session has ended, its waiting UPDATE cancelled: only then is
		// sent_at final, and the held locks can go.
		if _, err := db.Exec(ctx, relayLock); err != nil {
			t.Fatal(err)
		}
		if err := hold.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		var unmarked int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE id = ANY($1) AND sent_at IS NULL`, published).Scan(&unmarked); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
			t.Fatal(err)
		}
		if unmarked != len(published) {
			t.Fatalf("relay %d published %d rows and was killed before marking them, yet %d are marked sent", round, len(published), len(published)-unmarked)
		}
		for _, id := range published {
			republish[id] = true
		}
		t.Logf("relay %d killed after publishing %d rows, before marking them (%d rows held)", round, len(published), held)
	}

	// The last relay runs until the application is done and no row is
	// left unsent.
	relay := brokertest.StartChild(t, "relay 4", bin, relayArgs...)
	late.Wait(t, time.Minute)
	for {
		if relay.Next(t, deadline) != "idle" {
			continue
		}
		var left int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
	}
	relay.Stop(t, 30*time.Second)

	// The outbox: every row, by id, and each order's ids in order, which
	// is the order of its changes (versions 1, 2, 3).
	type outboxRow struct {
		order, payload string
	}
	rows := map[int64]outboxRow{}
	byOrder := map[string][]int64{}
	rs, err := db.Query(ctx, `SELECT id, aggregate_id, payload::text FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var id int64
		var r outboxRow
		if err := rs.Scan(&id, &r.order, &r.payload); err != nil {
			t.Fatal(err)
		}
		rows[id] = r
		byOrder[r.order] = append(byOrder[r.order], id)
		var e event
		if err := json.Unmarshal([]byte(r.payload), &e); err != nil || e.OrderID != r.order || e.Version != len(byOrder[r.order]) {
			t.Fatalf("outbox row %d of %s: payload %s (%v), want version %d", id, r.order, r.payload, err, len(byOrder[r.order]))
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	if all := orders + lateOrders; len(rows) != all*len(statuses) || len(byOrder) != all {
		t.Fatalf("the outbox holds %d rows of %d orders, want %d of %d", len(rows), len(byOrder), all*len(statuses), all)
	}

	// The topic, as a consumer reads it: each partition in offset order.
	records := readAll(t, addr, topic, partitions)
	copies := map[int64]int{}
	partitionOf := map[string]int32{}
	deduped := map[string][]int64{} // by order: first copies only, in partition order
	for _, r := range records {
		var id int64 = -1
		for _, h := range r.Headers {
			if h.Key == "outbox-id" {
				id, _ = strconv.ParseInt(string(h.Value), 10, 64)
			}
		}
		row, ok := rows[id]
		if !ok {
			t.Fatalf("record %d/%d has outbox id %d, which is not in the outbox", r.Partition, r.Offset, id)
		}
		if string(r.Key) != row.order || string(r.Value) != row.payload {
			t.Fatalf("record %d/%d (outbox id %d) is %s=%s, the row says %s=%s", r.Partition, r.Offset, id, r.Key, r.Value, row.order, row.payload)
		}
		if p, ok := partitionOf[row.order]; ok && p != r.Partition {
			t.Fatalf("%s has events in partitions %d and %d", row.order, p, r.Partition)
		}
		partitionOf[row.order] = r.Partition
		copies[id]++
		if copies[id] == 1 {
			deduped[row.order] = append(deduped[row.order], id)
		}
	}

	// Without deduplication: at least once, and the rows a killed relay
	// left unmarked are there twice or more.
	for id := range rows {
		if copies[id] == 0 {
			t.Errorf("outbox row %d was never published", id)
		}
	}
	for id := range republish {
		if copies[id] < 2 {
			t.Errorf("outbox row %d was published and not marked when its relay was killed, yet is in the topic %d times", id, copies[id])
		}
	}
	if len(records) <= len(rows) {
		t.Errorf("%d records for %d outbox rows: no duplicate, although %d rows were published twice", len(records), len(rows), len(republish))
	}
	// Deduplicated by outbox id: every row once, each order's in order.
	for order, want := range byOrder {
		if got := deduped[order]; !slices.Equal(got, want) {
			t.Errorf("%s: deduplicated events %v, want the outbox's %v", order, got, want)
		}
	}
	t.Logf("%d outbox rows, %d records in the topic, %d rows republished after a kill", len(rows), len(records), len(republish))
}

// readAll reads every record of topic's partitions from the start to the
// end offsets they have now.
func readAll(t *testing.T, addr, topic string, partitions int32) []*kgo.Record {
	t.Helper()
	ends, err := brokertest.Admin(t, addr).ListEndOffsets(brokertest.Context(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	start := map[int32]kgo.Offset{}
	left := map[int32]int64{} // partition -> its end, while not reached
	for p := range partitions {
		start[p] = kgo.NewOffset().AtStart()
		if e, _ := ends.Lookup(topic, p); e.Offset > 0 {
			left[p] = e.Offset
		}
	}
	cl := brokertest.Client(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}))
	ctx := brokertest.Context(t, time.Minute)
	var out []*kgo.Record
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("partitions %v not read to their end before the deadline", left)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("fetch partition %d: %v", p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, r)
			if r.Offset+1 >= left[r.Partition] {
				delete(left, r.Partition)
			}
		})
	}
	return out
}
