package cli

// `sluice verify broker` (hidden): the broker a `sluice verify` run
// spawns when its faults include power loss (runner.PowerLoss). It runs Sluice on the
// crashable in-memory file system storage's tests use (vfs.MemFS), which
// keeps only what was synced, and on SIGUSR1 loses power: every client
// connection is cut, the file system is replaced by its crash clone
// (unsynced bytes vanish, as they would from a disk's cache), and a new
// broker recovers from it. Clients reach it through a front proxy on a
// fixed address, so that no answer of the old broker can reach a client
// after the instant of the crash, and the new broker is found at the old
// address.

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"sluice/internal/broker"
	"sluice/internal/verify/faultproxy"
	"sluice/internal/verify/runner"
	"sluice/internal/vfs"
)

func runVerifyBroker(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify broker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9092", "address clients connect to")
	var cfg broker.Config
	fs.DurationVar(&cfg.GroupMinSessionTimeout, "group-min-session-timeout", 0, "as sluice serve")
	fs.DurationVar(&cfg.GroupInitialRebalanceDelay, "group-initial-rebalance-delay", 0, "as sluice serve")
	fs.BoolVar(&cfg.Journal, "journal", false, "fsync.journal=true")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	front, err := faultproxy.Listen(*listen)
	if err != nil {
		log.Error("sluice verify broker: listen", "err", err)
		return 1
	}
	defer front.Close()
	cfg.Listen, cfg.Advertise, cfg.DataDir, cfg.Logger = "127.0.0.1:0", front.Addr(), "/data", log
	mem := vfs.NewMem()
	cfg.FS = mem
	b, err := broker.Start(cfg)
	if err != nil {
		log.Error("sluice verify broker: start", "err", err)
		return 1
	}
	front.SetTarget(b.Addr())
	log.Info(runner.BrokerReadyLine, "listen", front.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, runner.PowerLossSignal)
	for s := range sig {
		if s != runner.PowerLossSignal {
			break
		}
		if b, mem, err = powerCycle(front, b, mem, cfg); err != nil {
			log.Error("sluice verify broker: restart after power loss", "err", err)
			return 1
		}
		log.Info(runner.BrokerReadyLine, "listen", front.Addr(), "after", "power loss")
	}
	if err := b.Close(); err != nil {
		return 1
	}
	return 0
}

// powerCycle crashes b and starts a broker on what survived. The cut
// comes first: once no connection is left, whatever the old broker still
// does (it is closed in the background, writing to the lost file system)
// reaches nobody.
func powerCycle(front *faultproxy.Proxy, b *broker.Broker, mem *vfs.MemFS, cfg broker.Config) (*broker.Broker, *vfs.MemFS, error) {
	start := time.Now()
	front.SetTarget("")
	front.CutAll()
	survived := mem.CrashClone()
	go b.Close()
	cfg.FS = survived
	nb, err := broker.Start(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("recover from the crash clone: %w", err)
	}
	front.SetTarget(nb.Addr())
	cfg.Logger.Info("sluice verify broker: power lost and restored", "recovery", time.Since(start).String())
	return nb, survived, nil
}
