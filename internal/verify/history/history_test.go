package history

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// oneOfEach is a valid op of every kind.
func oneOfEach() []Op {
	return []Op{
		{Process: 1, Kind: Send, Time: at(1), End: at(2), Outcome: OK, Record: &Record{"t", 0, 4, "a"}},
		{Process: 1, Kind: Send, Time: at(2), End: at(9), Outcome: Info, Record: &Record{"t", 1, NoOffset, "b"}, Error: "i/o timeout"},
		{Process: 2, Kind: Assign, Time: at(3), Partitions: []TopicPartition{{"t", 0}, {"t", 1}}, Group: "g"},
		{Process: 2, Kind: Poll, Time: at(4), End: at(5), Isolation: ReadCommitted, Group: "g", Txn: "T1",
			Records: []Record{{"t", 0, 4, "a"}, {"t", 0, 5, "c"}, {"t", 1, 0, "d"}}},
		{Process: 2, Kind: TxnBegin, Time: at(5), Txn: "T1"},
		{Process: 2, Kind: Commit, Time: at(6), End: at(7), Outcome: OK, Group: "g", Txn: "T1", Offsets: []Position{{"t", 0, 6}}},
		{Process: 2, Kind: TxnCommit, Time: at(7), End: at(8), Outcome: Fail, Txn: "T1"},
		{Process: 2, Kind: TxnAbort, Time: at(8), End: at(8), Outcome: OK, Txn: "T1"},
		{Process: 2, Kind: Revoke, Time: at(9), Partitions: []TopicPartition{{"t", 1}}},
		{Process: 0, Kind: Fault, Time: at(10), End: at(11), Fault: "broker-kill", Detail: "back after 0.4s", Outcome: OK},
	}
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	want := oneOfEach()
	for _, op := range want {
		if err := w.Append(op); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(buf.String(), "\n"); n != len(want) {
		t.Fatalf("%d lines for %d ops", n, len(want))
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %v\nwant %v", got, want)
	}
}

// A send's line, as a workload writes it; the format is documented in
// docs/verify.md and this pins it.
func TestSendLine(t *testing.T) {
	var buf bytes.Buffer
	op := Op{Process: 3, Kind: Send, Time: at(1).In(time.FixedZone("X", 3600)), End: at(2), Outcome: OK, Record: &Record{"orders", 2, 17, "p3-9"}}
	if err := NewWriter(&buf).Append(op); err != nil {
		t.Fatal(err)
	}
	want := `{"process":3,"kind":"send","time":"2026-03-01T12:00:00.001Z","end":"2026-03-01T12:00:00.002Z","outcome":"ok","record":{"topic":"orders","partition":2,"offset":17,"value":"p3-9"}}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestWriterRefusesInvalidOp(t *testing.T) {
	var buf bytes.Buffer
	err := NewWriter(&buf).Append(Op{Process: 1, Kind: Send, Time: at(1), Outcome: Info, Record: &Record{"t", 0, 3, "a"}})
	if err == nil || !strings.Contains(err.Error(), "info send with offset 3") {
		t.Fatalf("err = %v", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("wrote %q", buf.String())
	}
}

func TestReadRefusesDamagedLine(t *testing.T) {
	good := `{"process":1,"kind":"send","time":"2026-03-01T12:00:00Z","outcome":"ok","record":{"topic":"t","partition":0,"offset":0,"value":"a"}}`
	tests := []struct {
		name, line, want string
	}{
		{"cut short", good[:40], "unexpected EOF"},
		{"not json", "send t/0 a ok", "invalid character"},
		{"unknown field", strings.Replace(good, `"outcome"`, `"outcom"`, 1), `unknown field "outcom"`},
		{"unknown kind", strings.Replace(good, `"send"`, `"sned"`, 1), `unknown kind "sned"`},
		{"no time", strings.Replace(good, `"time":"2026-03-01T12:00:00Z",`, ``, 1), "no time"},
		{"unknown outcome", strings.Replace(good, `"ok"`, `"maybe"`, 1), `unknown outcome "maybe"`},
		{"field of another kind", strings.Replace(good, `"outcome"`, `"isolation":"read_committed","outcome"`, 1), "send with isolation"},
		{"failed send with offset", strings.Replace(good, `"ok"`, `"fail"`, 1), "fail send with offset 0"},
		{"poll without isolation", `{"process":2,"kind":"poll","time":"2026-03-01T12:00:00Z","records":[]}`, `poll isolation ""`},
		{"negative polled offset", `{"process":2,"kind":"poll","time":"2026-03-01T12:00:00Z","isolation":"read_committed","records":[{"topic":"t","partition":0,"offset":-1,"value":"a"}]}`, "polled offset -1"},
		{"record without topic", strings.Replace(good, `"topic":"t"`, `"topic":""`, 1), "record without topic"},
		{"txn end without txn", `{"process":2,"kind":"txn-commit","time":"2026-03-01T12:00:00Z","outcome":"ok"}`, "txn-commit without txn"},
		{"blank", "", "blank line"},
		{"two values", good + good, "more than one value"},
		{"trailing brace", good + "}", "more than one value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := good + "\n" + good + "\n" + tt.line + "\n" + good + "\n"
			_, err := Read(strings.NewReader(input))
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LineError", err)
			}
			if le.Line != 3 || !strings.Contains(le.Err.Error(), tt.want) {
				t.Fatalf("err = %v, want line 3: ...%s...", err, tt.want)
			}
		})
	}
}

func TestReadFileNamesFileAndLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p7.jsonl")
	if err := os.WriteFile(path, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	if err == nil || err.Error() != path+`:1: unknown kind ""` {
		t.Fatalf("err = %v", err)
	}
}

func TestMergeKeepsEachProcessInOrder(t *testing.T) {
	op := func(p, ms int) Op { return Op{Process: p, Kind: Fault, Fault: fmt.Sprint(ms), Time: at(ms)} }
	// Process 1's clock stepped back between its second and third op.
	p1 := []Op{op(1, 10), op(1, 30), op(1, 5), op(1, 40)}
	p2 := []Op{op(2, 10), op(2, 20), op(2, 35)}
	got := Merge(p1, p2)
	var order []string
	for _, o := range got {
		order = append(order, fmt.Sprintf("p%d@%s", o.Process, o.Fault))
	}
	want := "p1@10 p2@10 p2@20 p1@30 p1@5 p2@35 p1@40"
	if strings.Join(order, " ") != want {
		t.Fatalf("merged %v\nwant   %s", order, want)
	}
}

// Producers log from several goroutines; every line must come out whole.
func TestWriterConcurrentAppends(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				op := Op{Process: g, Kind: Send, Time: at(i), Outcome: OK, Record: &Record{"t", 0, int64(i), fmt.Sprintf("p%d-%d", g, i)}}
				if err := w.Append(op); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	ops, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 800 {
		t.Fatalf("read %d ops, want 800", len(ops))
	}
}

func TestString(t *testing.T) {
	var got []string
	for _, op := range oneOfEach() {
		got = append(got, op.String())
	}
	want := []string{
		"p1 send t/0 a ok@4",
		`p1 send t/1 b info error="i/o timeout"`,
		"p2 assign t/0 t/1 group=g",
		"p2 poll rc t/0 4=a 5=c t/1 0=d group=g txn=T1",
		"p2 txn-begin txn=T1",
		"p2 commit t/0@6 group=g txn=T1 ok",
		"p2 txn-commit txn=T1 fail",
		"p2 txn-abort txn=T1 ok",
		"p2 revoke t/1",
		`p0 fault broker-kill detail="back after 0.4s" ok`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	odd := Op{Process: 1, Kind: Send, Time: at(1), Outcome: Fail, Record: &Record{"t", 0, NoOffset, "a b"}}
	if s := odd.String(); s != `p1 send t/0 "a b" fail` {
		t.Fatalf("value with a space: %s", s)
	}
}
