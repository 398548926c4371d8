package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"

	"sluice/internal/bench"
	"sluice/internal/partition"
)

// runBench parses flags and hands the work to internal/bench; the table goes
// to stdout (and --out), per-run progress to stderr.
func runBench(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "broker" {
		return runBenchBroker(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg bench.Config
	fsync := fs.String("fsync", "always", "fsync policy of the in-process Sluice: always, interval or never")
	fs.BoolVar(&cfg.Journal, "journal", false, "the Sluice the bench starts writes a journal all partitions share (fsync.journal=true; see docs/durability.md)")
	fs.StringVar(&cfg.Brokers, "brokers", "", "host:port[,host:port] of a running Sluice to bench instead of starting one")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "parent directory for the in-process Sluice's temp data dir (default: the OS temp dir)")
	fs.Float64Var(&cfg.Scale, "scale", 1, "multiply every cell's record count (e.g. 0.05 for a quick run)")
	fs.IntVar(&cfg.Runs, "runs", 3, "runs per cell and target; the table shows the median")
	fs.StringVar(&cfg.Only, "only", "", "run only cells whose name contains this, e.g. 1KiB/acks=all")
	fs.IntVar(&cfg.MaxBuffered, "max-buffered", 10_000, "producer records in flight (kgo MaxBufferedRecords)")
	out := fs.String("out", "", "also write the markdown table to this file")
	peers := fs.String("peers", "null,kfake,kfake-fsync", "brokers measured beside Sluice in the same run: null (acknowledges without storing), kfake (in memory), kfake-fsync (on disk, fsync per batch); empty for Sluice alone")
	acks := fs.String("acks", "all", "the matrix's producer acks: all or 1")
	idempotent := fs.Bool("idempotent", false, "the matrix's producer with idempotent writes (acks=all)")
	fs.BoolVar(&cfg.ConsumeAfter, "consume-after", false, "read each topic after producing it, instead of with a consumer reading while the producer writes")
	fs.BoolVar(&cfg.InProcess, "in-process", false, "run the brokers in the bench's process instead of child processes (no broker CPU column; for --cpuprofile)")
	fs.StringVar(&cfg.ProfileDir, "profile-dir", "", "each child broker writes profiles of itself here: CPU in each measured window (<kind>.cpu.<n>.pprof), block and mutex over its life")
	latency := fs.Bool("latency", false, "instead of the matrix: produce latency at a fixed rate (--rate, --duration), no linger, a consumer reading, with the disk's 4 KiB append+fdatasync latency measured in the same run")
	fs.IntVar(&cfg.Latency.Rate, "rate", 2000, "with --latency: records per second")
	fs.DurationVar(&cfg.Latency.Duration, "duration", 10*time.Second, "with --latency: how long each run produces")
	fs.IntVar(&cfg.Latency.Size, "size", 1024, "with --latency: value bytes per record")
	restart := fs.Bool("restart", false, "instead of the matrix: time a clean restart and one after kill -9 of a sluice serve holding --restart-partitions partitions of data")
	restartParts := fs.Int("restart-partitions", 1000, "with --restart: partitions holding data")
	fs.IntVar(&cfg.Restart.Records, "restart-records", 100, "with --restart: records of 1 KiB per partition")
	withCleaner := fs.Bool("with-cleaner", false, "instead of the matrix: produce alone vs produce while the log cleaner compacts another topic (in-process Sluice)")
	transactions := fs.Bool("transactions", false, "instead of the matrix: plain acks=all vs transactional produce (100 and 1,000 records per transaction) with a read_committed consumer reading, and read_committed consume with 10% aborted, on Sluice and the --peers that run transactions (kfake, kfake-fsync)")
	fs.IntVar(&cfg.TxnProducers, "txn-producers", 8, "with --transactions: producers at once in each produce mode")
	txnParts := fs.Int("transaction-state-partitions", 0, "with --transactions: Sluice's __transaction_state partitions (default: the broker's)")
	fetchSessions := fs.Bool("fetch-sessions", false, "instead of the matrix: consume 100 and 1,000 partitions with and without fetch sessions (KIP-227) while a producer writes (in-process Sluice)")
	cleanerIO := fs.Int64("log-cleaner-io-max-bytes-per-second", 0, "with --with-cleaner: the cleaner's I/O limit (default: the broker's, 50000000; -1 unlimited)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the bench process to this file (with --in-process, the brokers' too)")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sluice bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	policy, err := partition.ParseFsyncPolicy(*fsync)
	if err != nil {
		fmt.Fprintln(stderr, "sluice bench:", err)
		return 2
	}
	cfg.Fsync, cfg.Progress = policy, stderr
	if cfg.Kinds, err = bench.ParseKinds(*peers); err != nil {
		fmt.Fprintln(stderr, "sluice bench:", err)
		return 2
	}
	switch *acks {
	case "all":
		cfg.Cells = bench.Matrix(bench.AcksAll, *idempotent)
	case "1":
		cfg.Cells = bench.Matrix(bench.AcksLeader, false)
	default:
		fmt.Fprintf(stderr, "sluice bench: --acks %q: want all or 1\n", *acks)
		return 2
	}
	cfg.TxnStatePartitions = int32(min(max(*txnParts, 0), 1000))
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "sluice bench:", err)
			return 1
		}
		defer stop()
	}
	if *withCleaner {
		return benchCleaner(cfg, *cleanerIO, stdout, stderr)
	}
	if *transactions {
		return benchTxn(cfg, stdout, stderr)
	}
	if *fetchSessions {
		return benchSessions(cfg, stdout, stderr)
	}
	if *restart {
		cfg.Restart.Partitions = int32(min(max(*restartParts, 1), 100_000))
		return benchMode(stdout, stderr,
			func(ctx context.Context) (*bench.RestartReport, error) { return bench.RunRestart(ctx, cfg) },
			(*bench.RestartReport).Err)
	}
	if *latency {
		return benchMode(stdout, stderr,
			func(ctx context.Context) (*bench.LatencyReport, error) { return bench.RunLatency(ctx, cfg) },
			(*bench.LatencyReport).Err)
	}
	return benchAndReport(cfg, *out, stdout, stderr)
}

// benchCleaner runs the cleaner-impact bench and prints its table.
func benchCleaner(cfg bench.Config, cleanerIO int64, stdout, stderr io.Writer) int {
	return benchMode(stdout, stderr,
		func(ctx context.Context) (*bench.CleanerReport, error) { return bench.RunCleaner(ctx, cfg, cleanerIO) },
		func(rep *bench.CleanerReport) error {
			return errors.Join(append(rep.Alone.Errs, rep.WithClean.Errs...)...)
		})
}

// benchTxn runs the transactions bench and prints its table.
func benchTxn(cfg bench.Config, stdout, stderr io.Writer) int {
	return benchMode(stdout, stderr,
		func(ctx context.Context) (*bench.TxnReport, error) { return bench.RunTxn(ctx, cfg) },
		(*bench.TxnReport).Err)
}

// benchSessions runs the fetch sessions bench and prints its table.
func benchSessions(cfg bench.Config, stdout, stderr io.Writer) int {
	return benchMode(stdout, stderr,
		func(ctx context.Context) (*bench.SessionsReport, error) { return bench.RunSessions(ctx, cfg) },
		(*bench.SessionsReport).Err)
}

// benchMode runs one of the benches other than the matrix and prints its
// table; failed reports a run that failed, which makes the exit code 1.
// Ctrl-C cancels the work in flight, so the in-process Sluice is closed.
func benchMode[R interface{ WriteMarkdown(io.Writer) error }](stdout, stderr io.Writer, run func(context.Context) (R, error), failed func(R) error) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := run(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "sluice bench:", err)
		return 1
	}
	if err := rep.WriteMarkdown(stdout); err != nil {
		return 1
	}
	if err := failed(rep); err != nil {
		fmt.Fprintln(stderr, "sluice bench:", err)
		return 1
	}
	return 0
}

// benchAndReport runs the bench and prints the table. Ctrl-C cancels the
// work in flight instead of killing the process, so the in-process Sluice
// is closed and its temp data dir removed.
func benchAndReport(cfg bench.Config, out string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "sluice bench:", err)
		return 1
	}
	if err := rep.WriteMarkdown(stdout); err != nil {
		return 1
	}
	if out != "" {
		if err := writeReport(rep, out); err != nil {
			fmt.Fprintln(stderr, "sluice bench:", err)
			return 1
		}
	}
	if rep.Err() != nil {
		return 1
	}
	return 0
}

// startCPUProfile profiles the bench process; since Sluice runs in-process
// the profile shows where the broker spends its time under each workload.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func writeReport(rep *bench.Report, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteMarkdown(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
