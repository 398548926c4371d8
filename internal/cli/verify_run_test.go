package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"sluice/internal/verify/check"
	"sluice/internal/verify/history"
	"sluice/internal/verify/runner"
)

// A run's command line is refused before anything starts when it asks
// for what cannot be done. (Runs themselves are tested in
// internal/verify/runner, against a spawned broker.)
func TestVerifyRunRefusesBadCommandLines(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--spawn", "--brokers", "127.0.0.1:9092"}, "exclude each other"},
		{[]string{"--brokers", "127.0.0.1:9092", "--faults", "broker-kill"}, "needs a broker the run spawns"},
		{[]string{"--faults", "broker-kill,power-loss"}, "choose one"},
		{[]string{"--faults", "meteor"}, `unknown fault "meteor"`},
		{[]string{"--guarantee", "twice"}, `unknown guarantee "twice"`},
		{[]string{"--producer", "acks2"}, `producer setting "acks2"`},
		{[]string{"--duration", "5s", "extra"}, "unexpected arguments"},
		{[]string{"--html", "/nonexistent/report.html"}, "--html: open /nonexistent/report.html"},
	} {
		_, errOut, code := runCLI(append([]string{"verify"}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
	if out, _, code := runCLI("verify", "-h"); code != 0 || !strings.Contains(out, "Usage: sluice verify [--spawn | --brokers") {
		t.Errorf("-h: exit %d, %q", code, out)
	}
}

// runResult is a run with one workload whose history shows the given
// loss, for the output and exit status.
func runResult(lost bool, unmet ...string) *runner.Result {
	ops := []history.Op{
		sendOp(1, "a", 0), sendOp(2, "b", 1), sendOp(3, "c", 2),
		{Process: 0, Kind: history.Fault, Time: verifyT0, Fault: "consumer-kill", Detail: "SIGKILL p2", Outcome: history.OK},
		pollOp(4, 0, 1, 2),
	}
	if lost {
		ops[4] = pollOp(4, 0, 2)
	}
	c := check.Check(ops)
	return &runner.Result{Seed: 9, Faults: []runner.Fault{runner.ConsumerKill}, Dir: "/tmp/run", Unmet: unmet,
		Workloads: []runner.WorkloadResult{{Guarantee: check.AtLeastOnce, Producer: "acks-all", Consumer: "commit-after",
			Dir: "/tmp/run/at-least-once", Check: c, Verdict: check.Judge(c, check.AtLeastOnce), Unmet: []string{}}}}
}

func TestVerifyRunOutputAndExit(t *testing.T) {
	var out bytes.Buffer
	if err := writeRunTable(&out, runResult(true), 5); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"=== at-least-once: producers acks-all, consumers commit-after (histories in /tmp/run/at-least-once)",
		`p0 fault consumer-kill detail="SIGKILL p2" ok`,
		"at-least-once  VIOLATED by lost-write 1, poll-skip 1",
		"=== Summary (seed 9, faults consumer-kill)\n\nat-least-once  VIOLATED by lost-write 1, poll-skip 1\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("missing %q in\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := writeRunJSON(&out, runResult(true)); err != nil {
		t.Fatal(err)
	}
	var d struct {
		Seed      uint64 `json:"seed"`
		Workloads []struct {
			Guarantee string `json:"guarantee"`
			Report    struct {
				Findings []check.Finding `json:"findings"`
				Faults   []history.Op    `json:"faults"`
			} `json:"report"`
		} `json:"workloads"`
	}
	if err := json.Unmarshal(out.Bytes(), &d); err != nil || d.Seed != 9 || len(d.Workloads) != 1 ||
		len(d.Workloads[0].Report.Findings) != 2 || len(d.Workloads[0].Report.Faults) != 1 {
		t.Fatalf("%v: %+v\n%s", err, d, out.String())
	}

	for _, tt := range []struct {
		res      *runner.Result
		noExpect bool
		want     int
	}{
		{runResult(false), false, 0},
		{runResult(true), false, 1},
		{runResult(true, "fault cut never took effect"), true, 1},
		{runResult(false, "fault cut never took effect"), false, 3},
		{runResult(false, "fault cut never took effect"), true, 0},
	} {
		if got := runExit(tt.res, tt.noExpect); got != tt.want {
			t.Errorf("violated=%v unmet=%v no-expect=%v: exit %d, want %d", tt.res.Violated(), tt.res.Unmet, tt.noExpect, got, tt.want)
		}
	}
}
