package runner

import (
	"fmt"
	"net"
	"path/filepath"
	"syscall"
	"time"
)

// PowerLossSignal makes the in-memory broker (`sluice verify broker`)
// lose power; BrokerReadyLine opens the line it logs whenever it is
// ready, after its start and after each power loss.
const (
	PowerLossSignal = syscall.SIGUSR1
	BrokerReadyLine = "sluice verify broker: serving"
)

// serveReadyLine opens the line `sluice serve` logs once it listens.
const serveReadyLine = "sluice: serving"

// brokerStartTimeout bounds a start or a recovery.
const brokerStartTimeout = 60 * time.Second

// spawnedBroker is the Sluice broker a run owns: `sluice serve` on a data
// directory, or, for power loss, `sluice verify broker` on the in-memory
// file system. It keeps one address across restarts, so that the proxies
// in front of it keep their target.
type spawnedBroker struct {
	exe   string
	args  []string
	env   []string // added to this process's environment
	ready string
	log   string
	addr  string
	c     *child
}

func spawnBroker(exe, dir string, memfs, journal bool) (*spawnedBroker, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// Short group timeouts let a killed member's partitions move within
	// a couple of seconds, so a short run sees rebalances happen.
	group := []string{"--group-min-session-timeout", "1s", "--group-initial-rebalance-delay", "-1ms"}
	b := &spawnedBroker{exe: exe, addr: addr, log: filepath.Join(dir, "broker.log")}
	if memfs {
		b.args = append([]string{"verify", "broker", "--listen", addr}, group...)
		b.ready = BrokerReadyLine
		if journal {
			b.args = append(b.args, "--journal")
		}
	} else {
		b.args = append([]string{"serve", "--listen", addr, "--data-dir", filepath.Join(dir, "broker-data"), "--log-level", "info"}, group...)
		b.ready = serveReadyLine
		if journal {
			b.env = []string{"SLUICE_FSYNC_JOURNAL=true"}
		}
	}
	return b, b.start()
}

// freeAddr finds a port nobody listens on. Another process could take it
// before the broker does; the broker would then fail to start, loudly.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (b *spawnedBroker) start() error {
	c, err := startChild(b.exe, b.args, b.env, b.log, b.ready)
	if err != nil {
		return err
	}
	b.c = c
	if err := c.waitLine(brokerStartTimeout); err != nil {
		c.kill()
		return fmt.Errorf("broker %v: %w (log: %s)", b.args, err, b.log)
	}
	return nil
}

// kill sends SIGKILL, starts the broker again on what it left and
// returns how long it was gone.
func (b *spawnedBroker) kill() (string, error) {
	pid := b.c.pid()
	t := time.Now()
	b.c.kill()
	if err := b.start(); err != nil {
		return "", err
	}
	return fmt.Sprintf("SIGKILL pid %d; serving again after %s", pid, time.Since(t).Round(time.Millisecond)), nil
}

// pause stops the broker for d (SIGSTOP) and continues it.
func (b *spawnedBroker) pause(d time.Duration) (string, error) {
	if err := b.c.signal(syscall.SIGSTOP); err != nil {
		return "", err
	}
	time.Sleep(d) // the fault is a duration
	if err := b.c.signal(syscall.SIGCONT); err != nil {
		return "", err
	}
	return fmt.Sprintf("SIGSTOP pid %d for %s", b.c.pid(), d.Round(time.Millisecond)), nil
}

// powerLoss makes the in-memory broker lose what it had not synced and
// waits until it serves again.
func (b *spawnedBroker) powerLoss() (string, error) {
	t := time.Now()
	b.c.drainLines()
	if err := b.c.signal(PowerLossSignal); err != nil {
		return "", err
	}
	if err := b.c.waitLine(brokerStartTimeout); err != nil {
		return "", fmt.Errorf("recovering from power loss: %w (log: %s)", err, b.log)
	}
	return fmt.Sprintf("unsynced bytes lost; serving again after %s", time.Since(t).Round(time.Millisecond)), nil
}

// alive reports whether the broker still runs; a broker that died by
// itself ends the run.
func (b *spawnedBroker) alive() error {
	if b.c.done() {
		return fmt.Errorf("the broker exited by itself (%s); see %s", b.c.exitStatus(), b.log)
	}
	return nil
}

func (b *spawnedBroker) stop() error {
	b.c.signal(syscall.SIGCONT) // harmless unless paused
	if !b.c.stop(30 * time.Second) {
		return fmt.Errorf("the broker did not stop cleanly (%s); see %s", b.c.exitStatus(), b.log)
	}
	return nil
}
