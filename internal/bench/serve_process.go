package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"syscall"
	"time"
)

// serveProcess is `sluice serve` in a child process, for the restart
// mode, which needs a broker it can stop, kill and start again.
type serveProcess struct {
	cmd     *exec.Cmd
	addr    string
	startup time.Duration // the broker's own startup time, from its log
	ready   time.Duration // from exec to the serving line
	readyAt time.Time     // when the serving line was read
	exited  chan struct{}
}

var servingRE = regexp.MustCompile(`sluice: serving"? listen=(\S+) .*startup=(\S+)`)

// startServe runs bin serve over dir on 127.0.0.1:0 and waits until it
// logs that it serves.
func startServe(bin, dir string, fsync string) (*serveProcess, error) {
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir, "--fsync", fsync, "--log-level", "info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serveProcess{cmd: cmd, exited: make(chan struct{})}
	found := make(chan []string, 1)
	go scanServing(stderr, found)
	go func() { cmd.Wait(); close(p.exited) }()
	select {
	case m := <-found:
		p.readyAt = time.Now()
		p.ready = p.readyAt.Sub(t0)
		p.addr = m[1]
		p.startup, _ = time.ParseDuration(m[2])
		return p, nil
	case <-p.exited:
		return nil, errors.New("sluice serve exited before serving")
	case <-time.After(5 * time.Minute):
		p.kill()
		return nil, errors.New("sluice serve did not serve within 5 minutes")
	}
}

// scanServing reads the log, sends the serving line's fields, and drains
// the rest so the child never blocks on a full pipe.
func scanServing(r io.Reader, found chan<- []string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
			select {
			case found <- m:
			default:
			}
		}
	}
}

// stop shuts the broker down cleanly (SIGTERM) and waits.
func (p *serveProcess) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Minute):
		p.kill()
		return errors.New("sluice serve did not stop within 5 minutes; killed")
	}
	if !p.cmd.ProcessState.Success() {
		return fmt.Errorf("sluice serve exited with %v", p.cmd.ProcessState)
	}
	return nil
}

// kill is kill -9.
func (p *serveProcess) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}
