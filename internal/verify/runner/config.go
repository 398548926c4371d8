// Package runner runs a `sluice verify` run: it starts (or is given)
// brokers, puts a fault-injecting proxy pool between them and the
// clients, runs each guarantee's workload as child processes with the
// client settings the guarantee needs, injects the faults a seed
// schedules, stops the clients, drains what is in the log, and checks
// each workload's history against its guarantee.
package runner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"sluice/internal/verify/check"
	"sluice/internal/verify/workload"
)

// Config is a run's settings. Zero values take the defaults noted.
type Config struct {
	// Brokers is an external cluster's bootstrap addresses; none means
	// spawn a Sluice broker the run owns (and can kill).
	Brokers []string
	// Guarantees to run a workload for (default all four), at once, on
	// their own topics.
	Guarantees []check.Guarantee
	Duration   time.Duration // default 60s
	Faults     []Fault
	// FaultEvery is the mean time between faults (default 2s).
	FaultEvery time.Duration
	Seed       uint64
	// Dir receives the histories (one directory per guarantee) and, when
	// spawning, the broker's data and log. Default: a new temp dir.
	Dir string
	// Exe is the sluice binary the child processes run (default: this
	// process's executable).
	Exe string
	// Producer and Consumer override the settings the guarantees' workloads
	// use, to see a wrong setup caught ("" keeps each guarantee's own).
	Producer workload.ProducerSetting
	Consumer workload.ConsumerSetting
	// Rate is each producer's records per second (default 100).
	Rate int
	// Partitions of every topic (default 4).
	Partitions int32
	// Journal runs the spawned broker with fsync.journal=true.
	Journal bool
	// SessionTimeout of group members (default 2s with a spawned broker,
	// which allows it; 6s, Kafka's default minimum, otherwise).
	SessionTimeout time.Duration
	// Progress receives a line every ProgressEvery (default 2s) and one
	// per fault; nil for none.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// Spawn reports whether the run starts its own broker.
func (c Config) Spawn() bool { return len(c.Brokers) == 0 }

func (c *Config) setDefaults() error {
	if len(c.Guarantees) == 0 {
		c.Guarantees = check.Guarantees
	}
	if c.Duration <= 0 {
		c.Duration = 60 * time.Second
	}
	if c.FaultEvery <= 0 {
		c.FaultEvery = 2 * time.Second
	}
	if c.Rate <= 0 {
		c.Rate = 100
	}
	if c.Partitions <= 0 {
		c.Partitions = 4
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 6 * time.Second
		if c.Spawn() {
			c.SessionTimeout = 2 * time.Second
		}
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 2 * time.Second
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	var err error
	if c.Exe == "" {
		c.Exe, err = os.Executable()
	}
	return err
}

// validate names the first bad field.
func (c Config) validate() error {
	for _, f := range c.Faults {
		if f.needsSpawn() && !c.Spawn() {
			return fmt.Errorf("fault %s needs a spawned broker", f)
		}
	}
	switch c.Producer {
	case "", workload.AcksNone, workload.AcksAll, workload.Idempotent:
	default:
		return fmt.Errorf("producer setting %q: want acks0, acks-all or idempotent", c.Producer)
	}
	switch c.Consumer {
	case "", workload.CommitAfter, workload.CommitBefore, workload.AutoCommit:
	default:
		return fmt.Errorf("consumer setting %q: want commit-after, commit-before or auto-commit", c.Consumer)
	}
	if c.Partitions > 64 {
		return errors.New("more than 64 partitions is not a test of delivery")
	}
	return nil
}
