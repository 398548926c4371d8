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
	"path/filepath"
	"runtime"
	"runtime/pprof"

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
	profileDir := fs.String("profile-dir", "", "write <kind>.cpu.pprof, <kind>.block.pprof and <kind>.mutex.pprof here")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	policy, err := partition.ParseFsyncPolicy(*fsync)
	if err != nil {
		fmt.Fprintln(stderr, "sluice bench broker:", err)
		return 2
	}
	cfg.Fsync = policy
	if *profileDir != "" {
		stop, err := profileBroker(filepath.Join(*profileDir, *kind))
		if err != nil {
			fmt.Fprintln(stderr, "sluice bench broker:", err)
			return 1
		}
		defer stop()
	}
	if err := bench.ServeChild(bench.Kind(*kind), cfg, os.Stdin, stdout); err != nil {
		fmt.Fprintln(stderr, "sluice bench broker:", err)
		return 1
	}
	return 0
}

// profileBroker profiles the broker's whole life: CPU, and where its
// goroutines block and wait for locks (a sample per 10 µs blocked, every
// contended lock), written when it stops.
func profileBroker(prefix string) (stop func(), err error) {
	cpu, err := startCPUProfile(prefix + ".cpu.pprof")
	if err != nil {
		return nil, err
	}
	runtime.SetBlockProfileRate(10_000)
	runtime.SetMutexProfileFraction(1)
	return func() {
		cpu()
		for _, name := range []string{"block", "mutex"} {
			if f, err := os.Create(prefix + "." + name + ".pprof"); err == nil {
				pprof.Lookup(name).WriteTo(f, 0)
				f.Close()
			}
		}
	}, nil
}
