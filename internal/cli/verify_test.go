package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sluice/internal/verify/history"
	"sluice/internal/verify/report"
)

// writeHistory writes one process's history file, as a workload's child
// process does.
func writeHistory(t *testing.T, dir, name string, ops ...history.Op) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := history.NewWriter(f)
	for _, op := range ops {
		if err := w.Append(op); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

var verifyT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sendOp(ms int, v string, off int64) history.Op {
	return history.Op{Process: 1, Kind: history.Send, Time: verifyT0.Add(time.Duration(ms) * time.Millisecond),
		Outcome: history.OK, Record: &history.Record{Topic: "t", Offset: off, Value: v}}
}

func pollOp(ms int, offsets ...int64) history.Op {
	op := history.Op{Process: 2, Kind: history.Poll, Time: verifyT0.Add(time.Duration(ms) * time.Millisecond), Isolation: history.ReadCommitted}
	for _, off := range offsets {
		op.Records = append(op.Records, history.Record{Topic: "t", Offset: off, Value: string(rune('a' + off))})
	}
	return op
}

// The producer's and the consumer's files are merged by time: the poll
// (in the second file) reads what the sends (in the first) wrote.
func TestVerifyCheckClean(t *testing.T) {
	dir := t.TempDir()
	p1 := writeHistory(t, dir, "p1.jsonl", sendOp(1, "a", 0), sendOp(2, "b", 1))
	p2 := writeHistory(t, dir, "p2.jsonl", pollOp(3, 0, 1))
	out, errOut, code := runCLI("verify", "check", p1, p2, "--guarantee", "at-least-once,exactly-once")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "History: 3 operations by 2 processes") ||
		!strings.Contains(out, "at-least-once  holds\nexactly-once   holds\n") {
		t.Fatalf("stdout:\n%s", out)
	}
}

func TestVerifyCheckViolation(t *testing.T) {
	dir := t.TempDir()
	p1 := writeHistory(t, dir, "p1.jsonl", sendOp(1, "a", 0), sendOp(2, "b", 1), sendOp(3, "c", 2))
	p2 := writeHistory(t, dir, "p2.jsonl", pollOp(4, 0, 2))
	out, _, code := runCLI("verify", "check", "--guarantee", "at-least-once", p1, p2)
	if code != 1 || !strings.Contains(out, "at-least-once  VIOLATED by lost-write 1, poll-skip 1\n") ||
		!strings.Contains(out, "b was acknowledged at offset 1 and never read, though offset 2 was") {
		t.Fatalf("exit %d, stdout:\n%s", code, out)
	}
	// At most once allows the loss.
	if _, _, code := runCLI("verify", "check", "--guarantee", "at-most-once", p1, p2); code != 0 {
		t.Fatalf("at-most-once: exit %d", code)
	}

	out, _, code = runCLI("verify", "check", "--json", "--guarantee", "at-least-once", p1, p2)
	var d report.Document
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != 1 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if len(d.Findings) != 2 || d.Findings[0].Values[0] != "b" || d.Findings[0].Evidence[0].Op.Process != 1 {
		t.Fatalf("findings %+v", d.Findings)
	}
}

func TestVerifyCheckRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	good := writeHistory(t, dir, "p1.jsonl", sendOp(1, "a", 0))
	damaged := filepath.Join(dir, "p2.jsonl")
	data, _ := os.ReadFile(good)
	if err := os.WriteFile(damaged, append(data, []byte(`{"process":2,"kind":"poll"`+"\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{good, damaged}, damaged + ":2: unexpected EOF"},
		{[]string{"--guarantee", "twice", good}, `unknown guarantee "twice"`},
		{nil, "no history files given"},
		{[]string{filepath.Join(dir, "missing.jsonl")}, "no such file"},
	}
	for _, tt := range tests {
		_, errOut, code := runCLI(append([]string{"verify", "check"}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
	if _, _, code := runCLI("verify", "run"); code != 2 {
		t.Errorf("unknown subcommand: exit %d", code)
	}
	if out, _, code := runCLI("verify"); code != 0 || !strings.Contains(out, "Usage: sluice verify check") {
		t.Errorf("help: exit %d, %q", code, out)
	}
}

// --html writes the page beside the table, and says where; a path that
// cannot be written is refused (exit 2). A run refuses it before it
// starts (verify_run_test.go).
func TestVerifyCheckHTML(t *testing.T) {
	dir := t.TempDir()
	p1 := writeHistory(t, dir, "p1.jsonl", sendOp(1, "a", 0), sendOp(2, "b", 1), sendOp(3, "c", 2))
	p2 := writeHistory(t, dir, "p2.jsonl", pollOp(4, 0, 2))
	page := filepath.Join(dir, "report.html")
	out, errOut, code := runCLI("verify", "check", "--guarantee", "at-least-once", "--html", page, p1, p2)
	if code != 1 || !strings.Contains(out, "VIOLATED by lost-write 1") || errOut != "HTML report: "+page+"\n" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sluice verify check: 2 history files", `<svg class="timeline"`, "b was acknowledged at offset 1 and never read"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	_, errOut, code = runCLI("verify", "check", "--html", filepath.Join(dir, "no", "such", "dir.html"), p1)
	if code != 2 || !strings.Contains(errOut, "--html: open") {
		t.Fatalf("unwritable page: exit %d, stderr %q", code, errOut)
	}
}
