package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/examples/internal/extest"
)

// payments writes n payments "pay-0" to "pay-<n-1>" (amount i+1) to topic,
// payment i to partition i%3, and after every tenth one the payment sent
// five before it again, as a producer re-sending after a timeout would
// (same key and amount, a new offset). It returns each record's payment id
// by place, and the number of re-sends.
func payments(t *testing.T, addr, topic string, n int) (map[extest.Place]string, int) {
	t.Helper()
	pay := func(i int) *kgo.Record {
		return &kgo.Record{Topic: topic, Partition: int32(i % 3), Key: fmt.Appendf(nil, "pay-%d", i), Value: []byte(strconv.Itoa(i + 1))}
	}
	var recs []*kgo.Record
	resends := 0
	for i := range n {
		recs = append(recs, pay(i))
		if i%10 == 9 {
			recs = append(recs, pay(i-5))
			resends++
		}
	}
	extest.Produce(t, addr, recs)
	ids := map[extest.Place]string{}
	for _, r := range recs {
		ids[extest.Place{Partition: r.Partition, Offset: r.Offset}] = string(r.Key)
	}
	return ids, resends
}

// journalLine is one line of the journal: the place of the record applied,
// its payment id and amount.
type journalLine struct {
	place  extest.Place
	id     string
	amount int64
}

// readJournal parses the journal file; every line must be whole.
func readJournal(t *testing.T, path string) []journalLine {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []journalLine
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if l == "" {
			continue
		}
		f := strings.Fields(l)
		if !strings.HasSuffix(l, "\n") || len(f) != 4 {
			t.Fatalf("journal line %q", l)
		}
		pl, ok := extest.ParsePlace(f[1])
		amount, err := strconv.ParseInt(f[3], 10, 64)
		if !ok || err != nil {
			t.Fatalf("journal line %q", l)
		}
		out = append(out, journalLine{pl, f[2], amount})
	}
	return out
}

// checkOnce checks that the journal credits each of the n payments exactly
// once, with its amount, and returns how many lines repeat a payment.
func checkOnce(t *testing.T, journal []journalLine, n int) (repeated []string) {
	t.Helper()
	count := map[string]int{}
	for _, l := range journal {
		i, err := strconv.Atoi(strings.TrimPrefix(l.id, "pay-"))
		if err != nil || i < 0 || i >= n || l.amount != int64(i+1) {
			t.Fatalf("journal credits %s with %d", l.id, l.amount)
		}
		count[l.id]++
		if count[l.id] == 2 {
			repeated = append(repeated, l.id)
		}
	}
	if len(count) != n {
		t.Errorf("the journal credits %d payments, want all %d", len(count), n)
	}
	return repeated
}

// The journal design under every fault at once: re-sent payments in the
// input, a SIGKILL in the middle of a poll (payments applied, offsets not
// committed), and the journal's last line then cut in half, as a power loss
// during its write would leave it. The restarted consumer cuts the torn
// line, applies its payment again, skips exactly the payments whose id is
// already in the journal, and at the end the journal credits every payment
// exactly once.
func TestJournalAppliesEachPaymentOnce(t *testing.T) {
	const n = 300
	b := extest.Broker(t)
	topic := extest.TopicName(t, "payments")
	group := topic + "-ledger"
	extest.CreateTopic(t, b.Addr(), topic, 3)
	ids, resends := payments(t, b.Addr(), topic, n)
	ends := extest.EndOffsets(t, b.Addr(), topic)
	journal := filepath.Join(t.TempDir(), "ledger.journal")
	cmd := extest.GoProgram(t, "./examples/idempotent-by-key")
	args := []string{"--brokers", b.Addr(), "--topic", topic, "--group", group, "--instance", "ledger-1", "--journal", journal}

	run1 := extest.Start(t, "run 1", cmd, append(args, "--work-ms", "5")...)
	extest.KillMidPoll(t, run1, 150, 10)
	committed1 := extest.Committed(t, b.Addr(), group, topic)

	// Tear the last line: keep its first half only.
	before := readJournal(t, journal)
	torn := before[len(before)-1]
	if torn.place.Offset < committed1[torn.place.Partition] {
		t.Fatalf("the journal's last line %v is below the committed offsets %v: the kill did not land mid-poll", torn.place, committed1)
	}
	data, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	last := strings.LastIndex(strings.TrimSuffix(string(data), "\n"), "\n") + 1
	if err := os.Truncate(journal, int64(last+(len(data)-last)/2)); err != nil {
		t.Fatal(err)
	}
	applied := map[string]bool{}
	for _, l := range before[:len(before)-1] {
		applied[l.id] = true
	}

	run2 := extest.Start(t, "run 2", cmd, args...)
	extest.RunToEnd(t, run2, committed1, ends)

	// Run 2 handles every record from run 1's committed offsets on, once,
	// in order per partition, and skips exactly those whose payment is in
	// the journal by then.
	next := extest.Offsets{}
	for p, o := range committed1 {
		next[p] = o
	}
	skippedRedelivered, skippedResent, cutLine := 0, 0, false
	for _, l := range run2.Seen {
		f := strings.Fields(l)
		if len(f) < 3 || (f[0] != "applied" && f[0] != "skipped") {
			if strings.HasPrefix(l, "journal: cut a torn last line") {
				cutLine = true
			}
			continue
		}
		pl, ok := extest.ParsePlace(f[1])
		id := strings.TrimPrefix(f[2], "key=")
		if !ok || ids[pl] != id {
			t.Fatalf("run 2: %q: the input holds %q there", l, ids[pl])
		}
		if pl.Offset != next[pl.Partition] {
			t.Fatalf("run 2 handled %v, want offset %d next in partition %d", pl, next[pl.Partition], pl.Partition)
		}
		next[pl.Partition]++
		if want := applied[id]; (f[0] == "skipped") != want {
			t.Fatalf("run 2: %q, but the payment is in the journal: %v", l, want)
		}
		if f[0] == "skipped" {
			if appliedBy(run1, pl) {
				skippedRedelivered++
			} else {
				skippedResent++
			}
		}
		applied[id] = true
	}
	if !next.Reached(ends) {
		t.Fatalf("run 2 handled records up to %v, want the end offsets %v", next, ends)
	}
	if !cutLine {
		t.Errorf("run 2 did not report the torn line it cut")
	}
	if skippedRedelivered == 0 {
		t.Errorf("run 2 skipped no record run 1 had applied: the kill did not land between the effects and the commit")
	}
	if repeated := checkOnce(t, readJournal(t, journal), n); len(repeated) > 0 {
		t.Errorf("the journal credits %d payments more than once: %v", len(repeated), repeated)
	}
	t.Logf("%d payments, %d re-sent; run 1 killed with %v committed, its last journal line (%v, %s) torn; run 2 skipped %d records run 1 had applied and %d re-sent payments; the journal credits each payment once",
		n, resends, committed1, torn.place, torn.id, skippedRedelivered, skippedResent)
}

// appliedBy reports whether run printed that it applied the record at pl.
func appliedBy(run *extest.Program, pl extest.Place) bool {
	for _, l := range run.Seen {
		if strings.HasPrefix(l, "applied "+pl.String()+" ") {
			return true
		}
	}
	return false
}

// Why the key must be stored with the effect: the consumer kills itself
// right after the effect of its 20th payment. With the keys in a second
// file, written after the effect, the restarted consumer does not know the
// payment was applied and credits it again: exactly that one payment twice.
// With the journal, the same crash comes after the one write that is both,
// and every payment is credited once.
func TestCrashBetweenEffectAndKey(t *testing.T) {
	for _, tc := range []struct {
		name     string
		flags    []string
		repeated int
	}{
		{"journal", nil, 0},
		{"separate-store", []string{"--separate-store"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 60
			b := extest.Broker(t)
			topic := extest.TopicName(t, "payments")
			group := topic + "-ledger"
			extest.CreateTopic(t, b.Addr(), topic, 3)
			payments(t, b.Addr(), topic, n)
			ends := extest.EndOffsets(t, b.Addr(), topic)
			journal := filepath.Join(t.TempDir(), "ledger.journal")
			cmd := extest.GoProgram(t, "./examples/idempotent-by-key")
			args := append([]string{"--brokers", b.Addr(), "--topic", topic, "--group", group, "--instance", "ledger-1", "--journal", journal}, tc.flags...)

			run1 := extest.Start(t, "run 1", cmd, append(args, "--crash-after", "20")...)
			run1.Died(t, 60*time.Second)
			var crashed string
			for _, l := range run1.Seen {
				if strings.HasPrefix(l, "crashing after the effect of ") {
					crashed = strings.TrimPrefix(strings.Fields(l)[6], "key=")
				}
			}
			if crashed == "" {
				t.Fatalf("run 1 did not say where it crashed: %q", run1.Seen)
			}
			committed1 := extest.Committed(t, b.Addr(), group, topic)
			run2 := extest.Start(t, "run 2", cmd, args...)
			extest.RunToEnd(t, run2, committed1, ends)

			repeated := checkOnce(t, readJournal(t, journal), n)
			if len(repeated) != tc.repeated || (tc.repeated == 1 && repeated[0] != crashed) {
				t.Errorf("payments credited twice: %v; want %d (the payment applied at the crash, %s)", repeated, tc.repeated, crashed)
			}
			t.Logf("crashed after the effect of %s; payments credited twice: %v", crashed, repeated)
		})
	}
}
