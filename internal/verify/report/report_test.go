package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sluice/internal/verify/check"
	"sluice/internal/verify/history"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// lossyHistory: b is lost (offset 2 was read, offset 1 never), and group
// g received a twice.
func lossyHistory() []history.Op {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	send := func(n int, v string, off int64) history.Op {
		return history.Op{Process: 1, Kind: history.Send, Time: ms(n), End: ms(n + 1), Outcome: history.OK,
			Record: &history.Record{Topic: "t", Partition: 0, Offset: off, Value: v}}
	}
	poll := func(n, p int, group string, recs ...history.Record) history.Op {
		return history.Op{Process: p, Kind: history.Poll, Time: ms(n), Isolation: history.ReadUncommitted, Group: group, Records: recs}
	}
	rec := func(off int64, v string) history.Record { return history.Record{Topic: "t", Offset: off, Value: v} }
	return []history.Op{
		send(0, "a", 0),
		send(10, "b", 1),
		send(20, "c", 2),
		poll(1500, 2, "g", rec(0, "a")),
		{Process: 0, Kind: history.Fault, Time: ms(1600), Fault: "consumer-kill", Detail: "p2", Outcome: history.OK},
		poll(1700, 3, "g", rec(0, "a"), rec(2, "c")),
	}
}

func TestTable(t *testing.T) {
	r := check.Check(lossyHistory())
	var out bytes.Buffer
	if err := Table(&out, r, []check.Guarantee{check.AtMostOnce, check.AtLeastOnce}, 1); err != nil {
		t.Fatal(err)
	}
	want := `History: 6 operations by 4 processes over 1.7s, 1 faults injected.
Sends: 3 acknowledged, 0 failed, 0 unknown. Polls: 2, returning 3 records.

Faults:
  +1.600s  p0 fault consumer-kill detail=p2 ok

ANOMALY               FOUND  at-most-once  at-least-once
lost-write            1      counted       VIOLATION
unseen                0      -             -
undelivered           1      counted       VIOLATION
duplicate             0      -             -
duplicate-delivery    1      VIOLATION     counted
inconsistent-offsets  0      -             -
G1a                   0      -             -
precommitted-read     0      -             -
torn-transaction      0      -             -
G1c                   0      -             -
poll-skip             1      counted       VIOLATION
nonmonotonic-poll     0      -             -
nonmonotonic-send     0      -             -

at-most-once   VIOLATED by duplicate-delivery 1; counted: lost-write 1, undelivered 1, poll-skip 1
at-least-once  VIOLATED by lost-write 1, undelivered 1, poll-skip 1; counted: duplicate-delivery 1

lost-write: 1
  b was acknowledged at offset 1 and never read, though offset 2 was
    #1  +0.010s  acknowledged send     p1 send t/0 b ok@1
    #5  +1.700s  read offset 2, later  p3 poll t/0 0=a 2=c group=g

undelivered: 1
  group g never received b (offset 1), though it received offset 2
    #1  +0.010s  showed b at offset 1             p1 send t/0 b ok@1
    #5  +1.700s  delivered offset 2 to the group  p3 poll t/0 0=a 2=c group=g

duplicate-delivery: 1
  group g received a 2 times
    #3  +1.500s  delivered it  p2 poll t/0 0=a group=g
    #5  +1.700s  delivered it  p3 poll t/0 0=a group=g

poll-skip: 1
  process 3 read offset 0 of t/0, then offset 2, skipping [b]
    #5  +1.700s  read offset 0, then 2  p3 poll t/0 0=a 2=c group=g
    #1  +0.010s  showed b at offset 1   p1 send t/0 b ok@1
`
	if out.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestTableShowsAtMostMaxPerAnomaly(t *testing.T) {
	var ops []history.Op
	for i, v := range []string{"a", "b", "c"} {
		ops = append(ops, history.Op{Process: 1, Kind: history.Send, Time: t0, Outcome: history.OK,
			Record: &history.Record{Topic: "t", Offset: int64(i), Value: v}})
	}
	var out bytes.Buffer
	if err := Table(&out, check.Check(ops), check.Guarantees, 2); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "unseen: 3\n") || strings.Count(s, "was acknowledged and never read") != 2 ||
		!strings.Contains(s, "  ... 1 more (the JSON report has them all)\n") {
		t.Fatalf("table:\n%s", s)
	}
}

func TestJSON(t *testing.T) {
	var out bytes.Buffer
	if err := JSON(&out, check.Check(lossyHistory()), []check.Guarantee{check.AtLeastOnce}); err != nil {
		t.Fatal(err)
	}
	var d Document
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if len(d.Verdicts) != 1 || d.Verdicts[0].Holds || len(d.Verdicts[0].Violations) != 3 {
		t.Fatalf("verdicts %+v", d.Verdicts)
	}
	if len(d.Findings) != 4 || d.Findings[0].Anomaly != check.LostWrite {
		t.Fatalf("findings %+v", d.Findings)
	}
	lost := d.Findings[0]
	if *lost.Partition != (history.TopicPartition{Topic: "t"}) || lost.Values[0] != "b" || lost.Offsets[0] != 1 {
		t.Fatalf("lost-write %+v", lost)
	}
	for _, e := range lost.Evidence {
		if err := e.Op.Validate(); err != nil {
			t.Fatalf("evidence #%d does not read back as an op: %v", e.Index, err)
		}
	}
	if len(d.Faults) != 1 || d.Faults[0].Fault != "consumer-kill" {
		t.Fatalf("faults %+v", d.Faults)
	}
	if d.Stats.Ops != 6 || d.Stats.SendsOK != 3 {
		t.Fatalf("stats %+v", d.Stats)
	}
}

// A clean run reports empty lists, not nulls, so a program can range over
// them without a check.
func TestJSONOfCleanRun(t *testing.T) {
	var out bytes.Buffer
	if err := JSON(&out, check.Check(nil), []check.Guarantee{check.ExactlyOnce}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{`"findings": []`, `"faults": []`, `"violations": []`, `"counted": []`, `"holds": true`} {
		if !strings.Contains(s, want) {
			t.Fatalf("missing %s in\n%s", want, s)
		}
	}
}
