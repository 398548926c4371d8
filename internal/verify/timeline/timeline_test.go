package timeline

import (
	"reflect"
	"testing"
	"time"

	"sluice/internal/verify/check"
	"sluice/internal/verify/history"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

func send(p int, at, end int, v string, off int64, o history.Outcome) history.Op {
	op := history.Op{Process: p, Kind: history.Send, Time: ms(at), Outcome: o,
		Record: &history.Record{Topic: "t", Offset: off, Value: v}}
	if end >= 0 {
		op.End = ms(end)
	}
	return op
}

func poll(p, at int, recs ...history.Record) history.Op {
	return history.Op{Process: p, Kind: history.Poll, Time: ms(at), Isolation: history.ReadUncommitted, Group: "g", Records: recs}
}

// drain is a poll of the verifier's own, in no group.
func drain(p, at int, recs ...history.Record) history.Op {
	op := poll(p, at, recs...)
	op.Group = ""
	return op
}

func rec(off int64, v string) history.Record {
	return history.Record{Topic: "t", Offset: off, Value: v}
}

// Sends count in the second their outcome was known, latencies in the
// second the send began; polls and their records in the second they
// began, a group's as deliveries, the verifier's apart; a second with
// nothing in it is still there, with zeros.
func TestBuildBucketsPerSecond(t *testing.T) {
	ops := []history.Op{
		send(1, 100, 300, "a", 0, history.OK),     // acked in 0, latency 200ms in 0
		send(1, 900, 1100, "b", 1, history.OK),    // acked in 1, latency 200ms in 0
		send(1, 950, 1950, "c", -1, history.Info), // unacked in 1, no latency
		send(1, 3100, -1, "d", 2, history.OK),     // no end: acked at its start, no latency
		poll(2, 1200, rec(0, "a"), rec(1, "b")),
		poll(2, 1300),
		poll(2, 3500, rec(2, "d")),
		drain(9, 3600, rec(0, "a"), rec(1, "b"), rec(2, "d")),
	}
	tl := Build(ops, check.Result{}, t0)
	want := []Second{
		{At: 0, Acked: 1, Measured: 2, P50: 200 * time.Millisecond, P99: 200 * time.Millisecond},
		{At: 1, Acked: 1, Unacked: 1, Polls: 2, Delivered: 2},
		{At: 2},
		{At: 3, Acked: 1, Polls: 1, Delivered: 1, VerifierReads: 3},
	}
	if !reflect.DeepEqual(tl.Seconds, want) {
		t.Fatalf("seconds:\n got %+v\nwant %+v", tl.Seconds, want)
	}
	if tl.Duration() != 4*time.Second {
		t.Fatalf("duration %s", tl.Duration())
	}
}

// p50 and p99 are latencies that were measured (nearest rank), of the
// sends that began in that second only.
func TestBuildLatencies(t *testing.T) {
	var ops []history.Op
	for i := 1; i <= 100; i++ { // second 0: 1ms .. 100ms
		ops = append(ops, send(1, 0, i, "x", int64(i), history.OK))
	}
	ops = append(ops, send(1, 1000, 1007, "y", 200, history.OK)) // second 1: one send, 7ms
	tl := Build(history.Merge(ops), check.Result{}, t0)
	if s := tl.Seconds[0]; s.Measured != 100 || s.P50 != 50*time.Millisecond || s.P99 != 99*time.Millisecond {
		t.Fatalf("second 0: %+v", s)
	}
	if s := tl.Seconds[1]; s.Measured != 1 || s.P50 != 7*time.Millisecond || s.P99 != 7*time.Millisecond {
		t.Fatalf("second 1: %+v", s)
	}
}

func TestPercentile(t *testing.T) {
	d := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n)
		}
		return out
	}
	for _, tt := range []struct {
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{d(5), 50, 5}, {d(5), 99, 5},
		{d(1, 2, 3), 50, 2}, {d(1, 2, 3), 99, 3},
		{d(1, 2, 3, 4), 50, 2}, {d(1, 2, 3, 4), 99, 4},
		{d(1, 2, 3, 4), 0, 1},
	} {
		if got := Percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("p%d of %v: %d, want %d", tt.p, tt.sorted, got, tt.want)
		}
	}
}

// Faults and findings are placed on the same clock as the seconds; an
// op from before the origin (a clock a little behind) is at zero.
func TestBuildPlacesFaultsAndFindings(t *testing.T) {
	ops := []history.Op{
		send(1, 0, 1, "a", 0, history.OK),
		send(1, 10, 11, "b", 1, history.OK),
		send(1, 20, 21, "c", 2, history.OK),
		{Process: 0, Kind: history.Fault, Time: ms(1600), Fault: "consumer-kill", Detail: "SIGKILL p2", Outcome: history.OK},
		{Process: 0, Kind: history.Fault, Time: ms(1700), Fault: "drop-ack", Outcome: history.Info},
		poll(3, 2500, rec(0, "a"), rec(2, "c")),
	}
	r := check.Check(ops)
	tl := Build(ops, r, ms(5))
	wantFaults := []Fault{
		{At: 1595 * time.Millisecond, Name: "consumer-kill", Detail: "SIGKILL p2", Took: true},
		{At: 1695 * time.Millisecond, Name: "drop-ack"},
	}
	if !reflect.DeepEqual(tl.Faults, wantFaults) {
		t.Fatalf("faults %+v", tl.Faults)
	}
	if len(tl.Findings) != len(r.Findings) || len(r.Findings) == 0 {
		t.Fatalf("%d findings on the timeline, %d found", len(tl.Findings), len(r.Findings))
	}
	lost := tl.Findings[0] // lost-write of b: its send, then the poll past it
	if lost.Anomaly != check.LostWrite || !reflect.DeepEqual(lost.At, []time.Duration{5 * time.Millisecond, 2495 * time.Millisecond}) {
		t.Fatalf("lost-write at %+v", lost)
	}
	if tl.Seconds[0].Acked != 3 { // the send at 0ms, before the origin, counts in second 0
		t.Fatalf("second 0: %+v", tl.Seconds[0])
	}
}

func TestBuildEmpty(t *testing.T) {
	tl := Build(nil, check.Result{}, t0)
	if tl.Seconds == nil || tl.Faults == nil || tl.Findings == nil || tl.Duration() != 0 {
		t.Fatalf("%+v", tl)
	}
}
