package cli

// `sluice verify [flags]`: run workloads against brokers while injecting
// faults, then check what they recorded (internal/verify/runner does the
// run; this file is its command line and its output).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"sluice/internal/verify/check"
	"sluice/internal/verify/report"
	"sluice/internal/verify/runner"
	"sluice/internal/verify/workload"
)

const verifyRunUsageText = `Usage: sluice verify [--spawn | --brokers ADDR[,ADDR...]] [flags]

Run a workload for each delivery guarantee against brokers while injecting
faults, record every operation, then check the records and say whether each
guarantee held. Progress goes to stderr, the report to stdout; the histories
stay in --dir, where 'sluice verify check' can read them again. See
docs/verify.md.

Flags:
  --spawn               start a Sluice broker in a temporary directory, which
                        the run can kill, pause and power-cycle (the default)
  --brokers ADDR,...    run against these brokers instead (any Kafka-compatible
                        cluster; client and network faults only)
  --guarantee G[,G]     at-most-once, at-least-once, idempotent, exactly-once or
                        all (default all, run at once on their own topics)
  --duration D          how long the workloads run under faults (default 60s)
  --faults LIST         comma-separated faults, or all (default) or none:
                        broker-kill, broker-pause, power-loss (by name only;
                        excludes broker-kill), drop-ack, drop-commit-ack, delay,
                        cut, consumer-kill, consumer-kill-before-commit,
                        consumer-kill-after-commit, producer-kill, rebalance
  --fault-every D       time between faults (default 2s)
  --seed N              seed of the fault schedule and the workers' choices
                        (default random; printed, so a run can be replayed)
  --dir DIR             where the histories go (default a new temporary dir)
  --producer S          override the producers' setting: acks0, acks-all or
                        idempotent (to see a wrong setup caught)
  --consumer S          override the consumers' setting: commit-after,
                        commit-before or auto-commit (not exactly-once's)
  --rate N              records per second per producer (default 100)
  --partitions N        partitions per topic (default 4)
  --journal             the spawned broker runs with fsync.journal=true
  --no-expect           do not fail a run that tested less than it claims
                        (a fault that never took effect, a client that died
                        by itself, a drain that did not reach the end)
  --json                print the report as JSON
  --html FILE           also write the report as one self-contained HTML page:
                        per workload, a timeline per second (sends, polls,
                        latency, faults, findings), the verdict, the findings
                        and the operations that prove them
  --max-findings N      findings shown per anomaly in the table and the HTML
                        page (default 5)

Exit status: 0 when every guarantee held and the run went as expected, 1 when
a guarantee was violated, 2 for a bad command line or a run that could not be
carried out, 3 when the run tested less than it claims (unless --no-expect).
`

func runVerifyRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, verifyRunUsageText) }
	var cfg runner.Config
	spawn := fs.Bool("spawn", false, "")
	brokers := fs.String("brokers", "", "")
	guarantee := fs.String("guarantee", "all", "")
	fs.DurationVar(&cfg.Duration, "duration", 0, "")
	faults := fs.String("faults", "all", "")
	fs.DurationVar(&cfg.FaultEvery, "fault-every", 0, "")
	seed := fs.Uint64("seed", 0, "")
	fs.StringVar(&cfg.Dir, "dir", "", "")
	fs.Func("producer", "", func(s string) error { cfg.Producer = workload.ProducerSetting(s); return nil })
	fs.Func("consumer", "", func(s string) error { cfg.Consumer = workload.ConsumerSetting(s); return nil })
	fs.IntVar(&cfg.Rate, "rate", 0, "")
	partitions := fs.Int("partitions", 0, "")
	fs.BoolVar(&cfg.Journal, "journal", false, "")
	noExpect := fs.Bool("no-expect", false, "")
	asJSON := fs.Bool("json", false, "")
	maxPer := fs.Int("max-findings", report.DefaultMaxPerAnomaly, "")
	htmlPath := fs.String("html", "", "")
	rest, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	bad := func(err error) int { fmt.Fprintln(stderr, "sluice verify:", err); return 2 }
	switch {
	case len(rest) > 0:
		return bad(fmt.Errorf("unexpected arguments %q", rest))
	case *spawn && *brokers != "":
		return bad(fmt.Errorf("--spawn and --brokers exclude each other"))
	case *brokers != "" && cfg.Journal:
		return bad(fmt.Errorf("--journal sets up the spawned broker; it does not go with --brokers"))
	case *brokers != "":
		cfg.Brokers = strings.Split(*brokers, ",")
	}
	var err error
	if cfg.Guarantees, err = parseGuarantees(*guarantee); err != nil {
		return bad(err)
	}
	if cfg.Faults, err = runner.ParseFaults(*faults, cfg.Spawn()); err != nil {
		return bad(err)
	}
	cfg.Seed, cfg.Partitions, cfg.Progress = *seed, int32(*partitions), stderr
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64N(1_000_000) + 1 // short enough to type again
	}
	page, err := createHTML(*htmlPath)
	if err != nil {
		return bad(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := runner.Run(ctx, cfg)
	if err != nil {
		page.abandon()
		fmt.Fprintf(stderr, "sluice verify: the run could not be carried out (seed %d): %v\n", cfg.Seed, err)
		return 2
	}
	if *asJSON {
		err = writeRunJSON(stdout, res)
	} else {
		err = writeRunTable(stdout, res, *maxPer)
	}
	if err == nil {
		err = page.write(res.Page(*maxPer), stderr)
	}
	if err != nil {
		return bad(err)
	}
	return runExit(res, *noExpect)
}

func runExit(res *runner.Result, noExpect bool) int {
	switch {
	case res.Violated():
		return 1
	case len(res.AllUnmet()) > 0 && !noExpect:
		return 3
	}
	return 0
}

// writeRunTable prints each workload's report, then a summary.
func writeRunTable(w io.Writer, res *runner.Result, maxPer int) error {
	for _, wr := range res.Workloads {
		fmt.Fprintf(w, "=== %s: producers %s, consumers %s (histories in %s)\n\n", wr.Guarantee, wr.Producer, wr.Consumer, wr.Dir)
		if err := report.Table(w, wr.Check, []check.Guarantee{wr.Guarantee}, maxPer); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "=== Summary (seed %d, faults %s)\n\n", res.Seed, faultNames(res.Faults))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, wr := range res.Workloads {
		fmt.Fprintf(tw, "%s\t%s\n", wr.Guarantee, report.VerdictText(wr.Verdict))
	}
	tw.Flush()
	if unmet := res.AllUnmet(); len(unmet) > 0 {
		fmt.Fprintln(w, "\nThe run tested less than it claims:")
		for _, u := range unmet {
			fmt.Fprintln(w, "  -", u)
		}
	}
	_, err := fmt.Fprintf(w, "\nHistories: %s (sluice verify check reads them)\n", res.Dir)
	return err
}

// runDocument is the JSON report of a run.
type runDocument struct {
	*runner.Result
	Workloads []runWorkloadDocument `json:"workloads"`
}

type runWorkloadDocument struct {
	runner.WorkloadResult
	Report report.Document `json:"report"`
}

func writeRunJSON(w io.Writer, res *runner.Result) error {
	d := runDocument{Result: res, Workloads: []runWorkloadDocument{}}
	for _, wr := range res.Workloads {
		d.Workloads = append(d.Workloads, runWorkloadDocument{wr, report.NewDocument(wr.Check, []check.Guarantee{wr.Guarantee})})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

func faultNames(fs []runner.Fault) string {
	if len(fs) == 0 {
		return "none"
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = string(f)
	}
	return strings.Join(names, ",")
}
