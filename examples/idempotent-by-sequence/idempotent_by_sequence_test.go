package main

import (
	"encoding/json"
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

const meters, readings = 4, 100

// reading is what the input holds at a place.
type reading struct {
	producer   string
	seq, value int64
}

func valueOf(m int, seq int64) int64 { return int64(m+1)*1000 + seq }

// writeReadings writes readings 1..100 of four meters, interleaved, meter m
// to partition m%2 (two meters per partition). Each meter "restarts" after
// its reading 40 and sends 36 to 40 again, and sends reading 10 once more
// after its reading 80, as a late retry: same sequence numbers and values,
// new offsets. It returns what each place holds and the number of repeats.
func writeReadings(t *testing.T, addr, topic string) (map[extest.Place]reading, int) {
	t.Helper()
	rec := func(m int, seq int64) *kgo.Record {
		id := fmt.Sprintf("meter-%d", m)
		return &kgo.Record{
			Topic: topic, Partition: int32(m % 2), Key: []byte(id),
			Value: []byte(strconv.FormatInt(valueOf(m, seq), 10)),
			Headers: []kgo.RecordHeader{
				{Key: "producer", Value: []byte(id)},
				{Key: "seq", Value: []byte(strconv.FormatInt(seq, 10))},
			},
		}
	}
	var recs []*kgo.Record
	repeats := 0
	for seq := int64(1); seq <= readings; seq++ {
		for m := range meters {
			recs = append(recs, rec(m, seq))
			switch seq {
			case 40:
				for s := int64(36); s <= 40; s++ {
					recs = append(recs, rec(m, s))
					repeats++
				}
			case 80:
				recs = append(recs, rec(m, 10))
				repeats++
			}
		}
	}
	extest.Produce(t, addr, recs)
	out := map[extest.Place]reading{}
	for _, r := range recs {
		p, seq, v, err := parse(r)
		if err != nil {
			t.Fatal(err)
		}
		out[extest.Place{Partition: r.Partition, Offset: r.Offset}] = reading{p, seq, v}
	}
	return out, repeats
}

func readState(t *testing.T, path string) map[string]*Producer {
	t.Helper()
	var s State
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string]*Producer{}
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("state file: %v\n%s", err, data)
	}
	return s.Producers
}

// checkRun checks one run's "applied" and "dropped" lines: the run handles
// the records from the committed offsets it started at, in order, each
// once, and applies a record exactly when its sequence number is above the
// last one applied for its producer, starting from the state file the run
// opened (start). It returns the places the run applied and dropped.
func checkRun(t *testing.T, run *extest.Program, input map[extest.Place]reading, from extest.Offsets, start map[string]*Producer) (applied, dropped map[extest.Place]bool) {
	t.Helper()
	last := map[string]int64{}
	for id, p := range start {
		last[id] = p.LastSeq
	}
	next := extest.Offsets{}
	for p, o := range from {
		next[p] = o
	}
	applied, dropped = map[extest.Place]bool{}, map[extest.Place]bool{}
	for _, l := range run.Seen {
		f := strings.Fields(l)
		if len(f) < 4 || (f[0] != "applied" && f[0] != "dropped") {
			continue
		}
		pl, ok := extest.ParsePlace(f[1])
		in := input[pl]
		if !ok || f[2] != "producer="+in.producer || f[3] != "seq="+strconv.FormatInt(in.seq, 10) {
			t.Fatalf("%s: %q: the input holds %+v there", run.Name, l, in)
		}
		if pl.Offset != next[pl.Partition] {
			t.Fatalf("%s handled %v, want offset %d next in partition %d", run.Name, pl, next[pl.Partition], pl.Partition)
		}
		next[pl.Partition]++
		if want := in.seq > last[in.producer]; (f[0] == "applied") != want {
			t.Fatalf("%s: %q, but the last sequence number applied for %s is %d", run.Name, l, in.producer, last[in.producer])
		}
		if f[0] == "applied" {
			last[in.producer] = in.seq
			applied[pl] = true
		} else {
			dropped[pl] = true
		}
	}
	return applied, dropped
}

// Re-sent and late readings in the input, and two consumer crashes: run 1
// kills itself right after its second store of the state, before
// committing (so its second poll comes back, already applied), run 2 is
// SIGKILLed in the middle of a poll (applied in memory, not stored), and
// run 3 reads to the end. Every run applies a record exactly when its
// sequence number is above its producer's last; every record run 1
// applied past its committed offsets is dropped when it comes back, run 3
// applies again what run 2
// applied but did not store; and the state file ends with
// each meter's 100 readings counted once and summed exactly.
func TestEachReadingAppliedOnce(t *testing.T) {
	b := extest.Broker(t)
	topic := extest.TopicName(t, "readings")
	group := topic + "-totals"
	extest.CreateTopic(t, b.Addr(), topic, 2)
	input, repeats := writeReadings(t, b.Addr(), topic)
	ends := extest.EndOffsets(t, b.Addr(), topic)
	statePath := filepath.Join(t.TempDir(), "totals.json")
	cmd := extest.GoProgram(t, "./examples/idempotent-by-sequence")
	args := []string{"--brokers", b.Addr(), "--topic", topic, "--group", group, "--instance", "totals-1", "--state", statePath}

	run1 := extest.Start(t, "run 1", cmd, append(args, "--crash-after-store", "2")...)
	run1.Died(t, 60*time.Second)
	applied1, _ := checkRun(t, run1, input, extest.Offsets{}, nil)
	committed1 := extest.Committed(t, b.Addr(), group, topic)
	state1 := readState(t, statePath)

	run2 := extest.Start(t, "run 2", cmd, append(args, "--work-ms", "5")...)
	extest.KillMidPoll(t, run2, 150, 10)
	applied2, dropped2 := checkRun(t, run2, input, committed1, state1)
	committed2 := extest.Committed(t, b.Addr(), group, topic)
	state2 := readState(t, statePath)

	run3 := extest.Start(t, "run 3", cmd, args...)
	extest.RunToEnd(t, run3, committed2, ends)
	applied3, dropped3 := checkRun(t, run3, input, committed2, state2)

	redelivered := 0
	for pl := range applied1 {
		if pl.Offset >= committed1[pl.Partition] {
			redelivered++
			// Read again by run 2, or by run 3 if run 2 was killed
			// before it came to that partition.
			if !dropped2[pl] && !dropped3[pl] {
				t.Errorf("run 1 applied and stored %v, but neither run 2 nor run 3 dropped it", pl)
			}
		}
	}
	if redelivered == 0 {
		t.Errorf("run 1 applied nothing past its committed offsets %v: the crash did not land between store and commit", committed1)
	}
	// What run 2 applied in the poll it was killed in never reached the
	// state file: run 3 applies it again.
	reapplied := 0
	for pl := range applied2 {
		if pl.Offset >= committed2[pl.Partition] {
			reapplied++
			if !applied3[pl] {
				t.Errorf("run 2 applied %v in memory only, but run 3 did not apply it", pl)
			}
		}
	}
	final := readState(t, statePath)
	for m := range meters {
		id := fmt.Sprintf("meter-%d", m)
		var want int64
		for s := int64(1); s <= readings; s++ {
			want += valueOf(m, s)
		}
		if p := final[id]; p == nil || p.LastSeq != readings || p.Count != readings || p.Total != want {
			t.Errorf("%s: %+v, want last_seq %d, count %d, total %d", id, p, readings, readings, want)
		}
	}
	if len(final) != meters {
		t.Errorf("the state holds %d producers, want %d", len(final), meters)
	}
	t.Logf("%d readings of %d meters and %d repeats; run 1 crashed after storing, %d records it applied came back and were dropped; run 2 killed mid-poll with %v committed, %d records it applied but did not store applied again by run 3; every total exact",
		meters*readings, meters, repeats, redelivered, committed2, reapplied)
}
