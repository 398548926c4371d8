package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"sluice/internal/broker"
	"sluice/internal/metadata"
	"sluice/internal/partition"
	"sluice/internal/wire"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg broker.Config
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:9092", "address to listen on")
	fs.StringVar(&cfg.Advertise, "advertise", "", "host:port given to clients in Metadata (default: the listen address)")
	fs.StringVar(&cfg.DataDir, "data-dir", "./sluice-data", "directory holding the catalog and the partition logs")
	nodeID := fs.Int("node-id", 0, "this broker's node id")
	fsync := fs.String("fsync", "always", "when to fsync: always (acks=all answered after fsync), interval, never; see docs/durability.md")
	fs.DurationVar(&cfg.FsyncInterval, "fsync-interval", partition.DefaultFsyncInterval, "sync period for --fsync=interval")
	fs.BoolVar(&cfg.RecoverCatalog, "recover-catalog", false, "start on a damaged catalog: keep the records before the damage (the damaged file is saved beside it) and register again the topics found on disk; see docs/durability.md")
	fs.BoolVar(&cfg.AutoCreateTopics, "auto-create-topics", false, "create unknown topics asked for in Metadata requests")
	maxFrame := fs.Int("socket-request-max-bytes", wire.DefaultMaxFrameBytes, "largest request frame accepted; larger ones close the connection")
	fs.DurationVar(&cfg.RetentionCheckInterval, "retention-check-interval", 0, "how often retention runs (default 5m)")
	fs.DurationVar(&cfg.OffsetsRetention, "offsets-retention", 0, "how long committed offsets of an empty group are kept (offsets.retention.minutes; default 168h)")
	fs.DurationVar(&cfg.GroupMinSessionTimeout, "group-min-session-timeout", 0, "smallest session timeout a group member may ask for (default 6s)")
	fs.DurationVar(&cfg.GroupMaxSessionTimeout, "group-max-session-timeout", 0, "largest session timeout a group member may ask for (default 30m)")
	fs.DurationVar(&cfg.GroupInitialRebalanceDelay, "group-initial-rebalance-delay", 0, "how long the first rebalance of an empty group waits for more members (default 3s; negative: none)")
	fs.DurationVar(&cfg.TxnMaxTimeout, "transaction-max-timeout", 0, "largest transaction.timeout.ms a producer may ask for (transaction.max.timeout.ms; default 15m)")
	txnParts := fs.Int("transaction-state-partitions", 0, "partitions of the internal __transaction_state topic (transaction.state.log.num.partitions; default 16); fixed once the topic exists")
	fs.DurationVar(&cfg.TxnIDExpiration, "transactional-id-expiration", 0, "how long an idle transactional id is remembered (transactional.id.expiration.ms; default 168h)")
	fs.DurationVar(&cfg.CleanerBackoff, "log-cleaner-backoff", 0, "how long the log cleaner sleeps when no compacted partition needs cleaning (default 15s)")
	fs.Int64Var(&cfg.CleanerIOMaxBytesPerSecond, "log-cleaner-io-max-bytes-per-second", 0, "bytes per second the log cleaner may read and write (default 50000000; -1 unlimited)")
	slots := fs.Int("max-incremental-fetch-session-cache-slots", 1000, "incremental fetch sessions held at once (KIP-227); 0: none, every fetch is sessionless")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", "", "address of the Prometheus endpoint: /metrics, /healthz, /readyz (ready once recovery finished); empty: none")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if *txnParts < 0 || *txnParts > 1000 {
		fmt.Fprintln(stderr, "sluice serve: --transaction-state-partitions must be between 1 and 1000")
		return 2
	}
	cfg.TxnStatePartitions = int32(*txnParts)
	policy, err := partition.ParseFsyncPolicy(*fsync)
	if err != nil {
		fmt.Fprintln(stderr, "sluice serve:", err)
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintln(stderr, "sluice serve: --log-level:", err)
		return 2
	}
	cfg.Fsync, cfg.NodeID, cfg.MaxFrameBytes = policy, int32(*nodeID), int32(*maxFrame)
	cfg.FetchSessionCacheSlots = *slots
	if *slots <= 0 {
		cfg.FetchSessionCacheSlots = -1 // Kafka's 0: no sessions (the broker's 0 is the default)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	return serve(cfg)
}

func serve(cfg broker.Config) int {
	// Before Start: a SIGTERM that arrives as soon as "serving" is logged
	// must shut down gracefully, not kill the process.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	b, err := broker.Start(cfg)
	if err != nil {
		cfg.Logger.Error("sluice: cannot start", "err", err)
		var damage *metadata.CorruptError
		if errors.As(err, &damage) {
			cfg.Logger.Error("sluice: the catalog is damaged and nothing on disk was changed; restore " + damage.File +
				" from a backup, or start with --recover-catalog, which saves the damaged file beside it, keeps the catalog records before the damage and every partition directory, and registers again the topics whose directories it finds (their configs are reset to the defaults)")
		}
		return 1
	}
	s := <-sig
	cfg.Logger.Info("sluice: shutting down", "signal", s.String())
	if err := b.Close(); err != nil {
		return 1
	}
	return 0
}
