package runner

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// A seed fixes the schedule; every fault comes at least once, in order,
// inside the part of the run that is left for faults.
func TestScheduleReplaysFromSeed(t *testing.T) {
	faults := []Fault{BrokerKill, DropAck, Cut, ConsumerKill}
	const d = 20 * time.Second
	a := Schedule(7, d, 2*time.Second, faults)
	if b := Schedule(7, d, 2*time.Second, faults); !reflect.DeepEqual(a, b) {
		t.Fatalf("the same seed gave two schedules:\n%v\n%v", a, b)
	}
	if c := Schedule(8, d, 2*time.Second, faults); reflect.DeepEqual(a, c) {
		t.Fatal("two seeds gave one schedule")
	}
	if len(a) != 7 { // (17s - 2s) / 2s
		t.Fatalf("%d events, want 7", len(a))
	}
	for i, e := range a {
		if e.At < d/10 || e.At >= d*85/100 || (i > 0 && e.At <= a[i-1].At) {
			t.Fatalf("event %d at %v: out of order or outside [%v, %v)", i, e.At, d/10, d*85/100)
		}
	}
	for _, f := range faults {
		if !slices.ContainsFunc(a, func(e Event) bool { return e.Fault == f }) {
			t.Fatalf("%s never scheduled: %v", f, a)
		}
	}
}

// A run too short for one event per slot still gets every fault once.
func TestScheduleShortRunHasEveryFault(t *testing.T) {
	faults := []Fault{ConsumerKill, ProducerKill, Rebalance}
	s := Schedule(1, 3*time.Second, 2*time.Second, faults)
	if len(s) != 3 {
		t.Fatalf("%d events, want 3: %v", len(s), s)
	}
}

func TestParseFaults(t *testing.T) {
	for _, c := range []struct {
		in    string
		spawn bool
		want  []Fault
		err   bool
	}{
		{"all", false, []Fault{DropAck, DropCommitAck, Delay, Cut, ConsumerKill, ConsumerKillBeforeCommit, ConsumerKillAfterCommit, ProducerKill, Rebalance}, false},
		{"all,power-loss", true, []Fault{BrokerPause, DropAck, DropCommitAck, Delay, Cut, ConsumerKill, ConsumerKillBeforeCommit, ConsumerKillAfterCommit, ProducerKill, Rebalance, PowerLoss}, false},
		{"broker-kill,power-loss", true, nil, true},
		{"broker-kill", false, nil, true},
		{"cut, cut ,none", false, []Fault{Cut}, false},
		{"teleport", true, nil, true},
	} {
		got, err := ParseFaults(c.in, c.spawn)
		if (err != nil) != c.err || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseFaults(%q, spawn=%v) = %v, %v; want %v, error %v", c.in, c.spawn, got, err, c.want, c.err)
		}
	}
}
