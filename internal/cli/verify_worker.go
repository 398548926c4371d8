package cli

// `sluice verify worker` (hidden): one client process of a `sluice
// verify` run, which starts it, kills it and reads its history. The
// flags are workload.Config's; the roles are described there.

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"sluice/internal/verify/workload"
)

func runVerifyWorker(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg workload.Config
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	err := workload.Run(cfg)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, workload.ErrUnknownOutcome):
		fmt.Fprintln(stderr, "sluice verify worker:", err)
		return workload.ExitUnknownOutcome
	}
	fmt.Fprintln(stderr, "sluice verify worker:", err)
	return 1
}
