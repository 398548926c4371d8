package cli

// `sluice bench broker` (hidden): one broker of a `sluice bench` run, in
// a child process of its own so that the bench can read its CPU time
// apart from the clients'. It speaks to the bench over stdin and stdout
// (bench.ServeChild) and stops when stdin closes.

import (
	"flag"
	"fmt"
	"io"
	"os"

	"sluice/internal/bench"
	"sluice/internal/partition"
)

func runBenchBroker(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench broker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg bench.Config
	kind := fs.String("kind", "sluice", "sluice, null, kfake or kfake-fsync")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "parent of the broker's temp data dir")
	fsync := fs.String("fsync", "always", "Sluice's fsync policy")
	fs.StringVar(&cfg.ProfileDir, "profile-dir", "", "profile the broker into this directory (see bench.ServeChild)")
	txnParts := fs.Int("transaction-state-partitions", 0, "Sluice's __transaction_state partitions (default: the broker's)")
	fs.BoolVar(&cfg.Journal, "journal", false, "Sluice with fsync.journal=true")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	policy, err := partition.ParseFsyncPolicy(*fsync)
	if err != nil {
		fmt.Fprintln(stderr, "sluice bench broker:", err)
		return 2
	}
	cfg.Fsync, cfg.TxnStatePartitions = policy, int32(min(max(*txnParts, 0), 1000))
	if err := bench.ServeChild(bench.Kind(*kind), cfg, os.Stdin, stdout); err != nil {
		fmt.Fprintln(stderr, "sluice bench broker:", err)
		return 1
	}
	return 0
}
