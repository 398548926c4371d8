package workload

import (
	"context"
	"os/signal"
	"syscall"
)

// ExitUnknownOutcome is a worker's exit status when it stopped on an
// unknown transaction outcome (ErrUnknownOutcome): the runner starts a
// replacement, as it would for a crash.
const ExitUnknownOutcome = 3

// Run plays c.Role until SIGTERM or SIGINT, then stops cleanly: a
// producer waits for the outcomes of what it sent, a group member leaves
// its group. SignalKillBeforeCommit and SignalKillAfterCommit arm the
// crash points of consumers and EOS workers.
func Run(c Config) error {
	c.setDefaults()
	if err := c.validate(); err != nil {
		return err
	}
	rec, closeFile, err := openRecorder(c.History, c.Process)
	if err != nil {
		return err
	}
	defer closeFile()
	stop, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	crash := armOnSignals(rec)
	switch c.Role {
	case Producer:
		return runProducer(stop, c, rec)
	case Consumer:
		return runConsumer(stop, c, rec, crash)
	case EOS:
		return runEOS(stop, c, rec, crash)
	default: // Assigned, Observer
		return runAssigned(stop, c, rec, crash)
	}
}
