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
	"sluice/internal/config"
	"sluice/internal/metadata"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "a settings file in the properties format of Kafka's server.properties (docs/operations.md#settings)")
	printConfig := fs.Bool("print-config", false, "print the effective settings in the file's format, each after a comment naming its source, and exit")
	checkConfig := fs.Bool("check-config", false, "check every setting and that the data directory is usable, without changing anything, and exit: 0 if all is well, else 2 with every problem")
	flags := config.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: sluice serve [--config FILE] [flags]\n\n"+
			"Each setting comes from its flag, else its SLUICE_ environment variable, else\n"+
			"the --config file, else its default; the setting's name is in parentheses.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sluice serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, errs := config.Load(config.Inputs{File: *file, Environ: os.Environ(), Flags: flags})
	if *checkConfig && dataDirKnown(errs) {
		if err := cfg.CheckDataDir(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintln(stderr, "sluice serve:", err)
		}
		return 2
	}
	if *printConfig {
		if err := cfg.Print(stdout); err != nil {
			fmt.Fprintln(stderr, "sluice serve:", err)
			return 1
		}
	}
	if *checkConfig {
		fmt.Fprintln(stdout, "sluice serve: the settings are valid and the data directory is usable")
	}
	if *printConfig || *checkConfig {
		return 0
	}
	bc := cfg.Broker()
	bc.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel()}))
	for _, v := range cfg.Values() {
		if v.Source.Origin != config.FromDefault {
			bc.Logger.Info("sluice: setting", "name", v.Setting.Name, "value", v.Value, "source", v.Source.String())
		}
	}
	return serve(bc)
}

// dataDirKnown: none of errs leaves the data directory in doubt (a bad
// log.dirs, or a file that could not be read and may have set it), so
// checking it says something.
func dataDirKnown(errs []error) bool {
	for _, err := range errs {
		var e *config.Error
		if !errors.As(err, &e) || e.Name == "log.dirs" {
			return false
		}
	}
	return true
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
