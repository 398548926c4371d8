package workload

import (
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// Crash points. A SIGKILL from outside lands wherever the consumer is,
// mostly waiting in a poll; the faults that matter most for delivery are
// a crash between processing and committing, and between committing and
// processing. So the runner arms a crash point with a signal, and the
// consumer, on reaching it with records in hand, records the fault and
// sends itself SIGKILL: as abrupt as any kill, at the point wanted.
const (
	SignalKillBeforeCommit = syscall.SIGUSR1
	SignalKillAfterCommit  = syscall.SIGUSR2
)

// The fault names a consumer records when it kills itself.
const (
	FaultKillBeforeCommit = "consumer-kill-before-commit"
	FaultKillAfterCommit  = "consumer-kill-after-commit"
)

type crashPoint int32

const (
	noCrash crashPoint = iota
	beforeCommit
	afterCommit
)

// crasher holds the armed crash point, if any.
type crasher struct {
	rec   *recorder
	armed atomic.Int32
}

// armOnSignals arms the crash points on SignalKillBeforeCommit and
// SignalKillAfterCommit.
func armOnSignals(rec *recorder) *crasher {
	c := &crasher{rec: rec}
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, SignalKillBeforeCommit, SignalKillAfterCommit)
	go func() {
		for s := range ch {
			p := beforeCommit
			if s == SignalKillAfterCommit {
				p = afterCommit
			}
			c.armed.Store(int32(p))
		}
	}()
	return c
}

// at kills the process if p is armed, after recording why; n is how many
// records the consumer holds.
func (c *crasher) at(p crashPoint, n int) {
	if crashPoint(c.armed.Load()) != p {
		return
	}
	name, when := FaultKillBeforeCommit, "before committing"
	if p == afterCommit {
		name, when = FaultKillAfterCommit, "after committing"
	}
	c.rec.fault(name, fmt.Sprintf("p%d killed itself with %d records in hand, %s", c.rec.proc, n, when))
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL cannot be caught; never go on
}
