package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/pgtest"
)

// place is a record's identity: its partition and offset.
type place struct {
	p   int32
	off int64
}

// The consumer is killed with SIGKILL in the middle of a batch: after some
// of the batch's effects are committed in PostgreSQL, before the batch's
// offsets are committed to Kafka. Restarted, it is given those records
// again (at-least-once) and the database turns each of them away: every
// record's amount is in its account's balance exactly once, and
// processed_records holds every record once, although more records were
// delivered than there are records.
func TestDedupConsumerKilledMidBatch(t *testing.T) {
	const n, partitions, accounts = 900, 3, 7
	pg := pgtest.Start(t)
	pg.ExecFile(t, "schema.sql")
	// A killed member's partitions are free once its session times out:
	// let the consumers ask for 2 s instead of 45.
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) {
		c.GroupMinSessionTimeout, c.GroupInitialRebalanceDelay = time.Second, -1
	}))
	addr := b.Addr()
	adm := brokertest.Admin(t, addr)
	topic, group := "deposits", "balances"
	if _, err := adm.CreateTopic(brokertest.Context(t, 10*time.Second), partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}

	// The deposits, produced with acks=all and idempotence (franz-go's
	// defaults), and what each balance must end at.
	want := map[string]int64{}
	recs := make([]*kgo.Record, n)
	for i := range n {
		account, amount := fmt.Sprintf("acct-%d", i%accounts), int64(i*37%101-20)
		want[account] += amount
		recs[i] = &kgo.Record{Key: []byte(account), Value: []byte(strconv.FormatInt(amount, 10))}
	}
	producer := brokertest.Client(t, addr, kgo.DefaultProduceTopic(topic))
	if err := producer.ProduceSync(brokertest.Context(t, 30*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	all := map[place]bool{} // ProduceSync set each record's partition and offset
	for _, r := range recs {
		all[place{r.Partition, r.Offset}] = true
	}

	bin := brokertest.BuildPackage(t, "./examples/dedup-postgres")
	args := []string{"-brokers", addr, "-topic", topic, "-group", group, "-db", pg.URL, "-session-timeout", "2s"}
	deadline := time.After(2 * time.Minute)

	// Run 1: killed at the fifth record of a batch of at least 20, once
	// two batches are committed. Its next 15 or more records, each a
	// transaction with a synced commit, stand between the kill and the
	// batch's offset commit.
	run1 := brokertest.StartChild(t, "run 1", bin, args...)
	applied1, dups1 := map[place]int{}, map[place]int{}
	size, inBatch, commits := 0, 0, 0
	for killed := false; !killed; {
		l := run1.Next(t, deadline)
		kind, pl := parse(t, l)
		switch kind {
		case "batch":
			size, inBatch = int(pl.off), 0
		case "committed":
			commits++
		case "applied":
			applied1[pl]++
			inBatch++
			killed = commits >= 2 && size >= 20 && inBatch == 5
		case "duplicate":
			dups1[pl]++
		}
		if len(applied1) == n {
			t.Fatal("run 1 processed every record before it could be killed mid-batch")
		}
	}
	for _, l := range run1.Kill() { // what it printed before it died
		if kind, pl := parse(t, l); kind == "applied" {
			applied1[pl]++
		} else if kind == "duplicate" {
			dups1[pl]++
		}
	}
	if len(dups1) != 0 {
		t.Fatalf("run 1, the group's only member, was given %d records twice", len(dups1))
	}

	// What Kafka will redeliver: everything at or after the committed
	// offsets. expect: what run 1 applied there, which run 2 must turn
	// away.
	fetched, err := adm.FetchOffsets(brokertest.Context(t, 10*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	committed := func(p int32) int64 {
		if o, ok := fetched.Lookup(topic, p); ok && o.At >= 0 {
			return o.At
		}
		return 0
	}
	expect := map[place]bool{}
	for pl := range applied1 {
		if pl.off >= committed(pl.p) {
			expect[pl] = true
		}
	}
	if len(expect) == 0 {
		t.Fatal("run 1 died with no applied record beyond its committed offsets: the kill did not land mid-batch")
	}
	t.Logf("run 1 applied %d records, %d of them beyond the committed offsets", len(applied1), len(expect))

	// Run 2: until every record is accounted for and the batch that
	// completed it is committed, then a clean stop.
	run2 := brokertest.StartChild(t, "run 2", bin, args...)
	applied2, dups2 := map[place]int{}, map[place]int{}
	covered := func() bool {
		for pl := range all {
			if applied1[pl]+applied2[pl]+dups2[pl] == 0 {
				return false
			}
		}
		return true
	}
	for done := false; !done; {
		kind, pl := parse(t, run2.Next(t, deadline))
		switch kind {
		case "applied":
			applied2[pl]++
		case "duplicate":
			dups2[pl]++
		case "committed":
			done = covered()
		}
	}
	run2.Stop(t, 30*time.Second)

	// Delivery was at-least-once: run 1's records beyond the committed
	// offsets came again, and only as duplicates.
	for pl := range expect {
		if dups2[pl] != 1 || applied2[pl] != 0 {
			t.Errorf("record %v, applied by run 1 beyond the committed offsets: run 2 saw it as a duplicate %d times and applied it %d times; want 1 and 0",
				pl, dups2[pl], applied2[pl])
		}
	}
	// One more may come back as a duplicate: the record whose database
	// commit reached PostgreSQL as run 1 died, before it could print.
	var extra []place
	for pl := range dups2 {
		if !expect[pl] {
			extra = append(extra, pl)
		}
	}
	if len(extra) > 1 || len(extra) == 1 && applied1[extra[0]] != 0 {
		t.Errorf("run 2 turned away records run 1 had not applied beyond the committed offsets: %v", extra)
	}
	// Effects exactly once, as the consumers saw them.
	for pl := range all {
		if c := applied1[pl] + applied2[pl]; c > 1 {
			t.Errorf("record %v applied %d times", pl, c)
		}
	}
	deliveries := 0
	for _, m := range []map[place]int{applied1, applied2, dups2} {
		for _, c := range m {
			deliveries += c
		}
	}
	if deliveries <= n {
		t.Errorf("%d deliveries of %d records: the test proved no redelivery", deliveries, n)
	}

	// Effects exactly once, in the database.
	ctx := brokertest.Context(t, 30*time.Second)
	db := pg.Connect(t)
	rows, err := db.Query(ctx, `SELECT partition, record_offset FROM processed_records WHERE topic = $1`, topic)
	if err != nil {
		t.Fatal(err)
	}
	inDB := map[place]bool{}
	for rows.Next() {
		var pl place
		if err := rows.Scan(&pl.p, &pl.off); err != nil {
			t.Fatal(err)
		}
		inDB[pl] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(inDB) != n {
		t.Errorf("processed_records holds %d records, want %d", len(inDB), n)
	}
	for pl := range all {
		if !inDB[pl] {
			t.Errorf("record %v is not in processed_records", pl)
		}
	}
	got := map[string]int64{}
	rows, err = db.Query(ctx, `SELECT id, balance FROM accounts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var balance int64
		if err := rows.Scan(&id, &balance); err != nil {
			t.Fatal(err)
		}
		got[id] = balance
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("balances %v, want %v (each record's amount once)", got, want)
	}

	// And Kafka has the group's offsets at the end of every partition.
	ends, err := adm.ListEndOffsets(brokertest.Context(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	fetched, err = adm.FetchOffsets(brokertest.Context(t, 10*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(partitions) {
		end, _ := ends.Lookup(topic, p)
		if c := committed(p); c != end.Offset {
			t.Errorf("partition %d: committed %d, end %d", p, c, end.Offset)
		}
	}
	t.Logf("%d records, %d deliveries, %d effects", n, deliveries, len(inDB))
}

// parse reads one line of the consumer's output: its kind, and the
// record's place (for "batch", the batch size in off).
func parse(t *testing.T, line string) (string, place) {
	t.Helper()
	f := strings.Fields(line)
	num := func(i int) int64 {
		if len(f) <= i {
			t.Fatalf("short line %q", line)
		}
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		return v
	}
	switch {
	case len(f) == 0:
		t.Fatalf("empty line")
	case f[0] == "batch":
		return f[0], place{off: num(1)}
	case f[0] == "applied" || f[0] == "duplicate":
		return f[0], place{int32(num(1)), num(2)}
	case f[0] == "committed":
		return f[0], place{}
	}
	t.Fatalf("unexpected line %q", line)
	return "", place{}
}
