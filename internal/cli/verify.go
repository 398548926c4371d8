package cli

// `sluice verify`: the delivery verifier. `sluice verify [flags]` runs
// workloads against brokers while injecting faults and checks what they
// recorded (verify_run.go); `sluice verify check` checks histories
// recorded before. The checker uses no broker package: a history is all
// it reads. The hidden subcommands `worker` and `broker` are the child
// processes of a run; `kfake` serves franz-go's in-memory Kafka, to run
// against with --brokers.

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"sluice/internal/verify/check"
	"sluice/internal/verify/history"
	"sluice/internal/verify/report"
)

const verifyUsageText = `Usage: sluice verify [flags]             run workloads under faults and check them
       sluice verify check [flags] FILE...  check recorded histories

'sluice verify -h' lists the flags of a run.

Usage: sluice verify check [flags] FILE...

Check recorded histories (JSON lines, one file per client process; they are
merged by time) for lost, duplicated, misordered and aborted-but-visible
records, and say which delivery guarantees the run kept. The format and
every anomaly are described in docs/verify.md.

Flags:
  --guarantee G       at-most-once, at-least-once, idempotent, exactly-once
                      or all (default all): the guarantees to judge
  --json              print the report as JSON, with every finding
  --html FILE         also write the report as one self-contained HTML page:
                      a timeline per second (sends, polls, latency, faults,
                      findings), the verdicts, the findings and their proof
  --max-findings N    findings shown per anomaly in the table and the HTML
                      page (default 5)

Exit status: 0 when every judged guarantee holds, 1 when one is violated,
2 for a bad command line, a history that does not read or an HTML report
that cannot be written.
`

// runVerify dispatches: flags run workloads, check checks histories.
func runVerify(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0 || args[0] == "help":
		fmt.Fprint(stdout, verifyUsageText)
		return 0
	case args[0] == "-h" || args[0] == "--help":
		fmt.Fprint(stdout, verifyRunUsageText)
		return 0
	case strings.HasPrefix(args[0], "-"):
		return runVerifyRun(args, stdout, stderr)
	case args[0] == "check":
		return runVerifyCheck(args[1:], stdout, stderr)
	case args[0] == "worker":
		return runVerifyWorker(args[1:], stdout, stderr)
	case args[0] == "broker":
		return runVerifyBroker(args[1:], stdout, stderr)
	case args[0] == "kfake":
		return runVerifyKfake(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "sluice verify: unknown subcommand %q\n\n%s", args[0], verifyUsageText)
	return 2
}

func runVerifyCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, verifyUsageText) }
	guarantee := fs.String("guarantee", "all", "")
	asJSON := fs.Bool("json", false, "")
	maxPer := fs.Int("max-findings", report.DefaultMaxPerAnomaly, "")
	htmlPath := fs.String("html", "", "")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	bad := func(err error) int { fmt.Fprintln(stderr, "sluice verify check:", err); return 2 }
	if len(files) == 0 {
		return bad(fmt.Errorf("no history files given"))
	}
	guarantees, err := parseGuarantees(*guarantee)
	if err != nil {
		return bad(err)
	}
	ops, err := history.ReadFiles(files...)
	if err != nil {
		return bad(err)
	}
	page, err := createHTML(*htmlPath)
	if err != nil {
		return bad(err)
	}
	r := check.Check(ops)
	if *asJSON {
		err = report.JSON(stdout, r, guarantees)
	} else {
		err = report.Table(stdout, r, guarantees, *maxPer)
	}
	if err != nil {
		page.abandon()
		fmt.Fprintln(stderr, "sluice verify check:", err)
		return 1
	}
	if err := page.write(checkPage(files, ops, r, guarantees, *maxPer), stderr); err != nil {
		return bad(err)
	}
	return verdictExit(r, guarantees)
}

func parseGuarantees(s string) ([]check.Guarantee, error) {
	if s == "all" {
		return check.Guarantees, nil
	}
	var gs []check.Guarantee
	for _, name := range strings.Split(s, ",") {
		g, err := check.ParseGuarantee(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		gs = append(gs, g)
	}
	return gs, nil
}

func verdictExit(r check.Result, guarantees []check.Guarantee) int {
	for _, g := range guarantees {
		if !check.Judge(r, g).Holds {
			return 1
		}
	}
	return 0
}
