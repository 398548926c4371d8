package runner

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// child is one child process of the run: the broker or a client. Its
// stderr goes to a log file beside its history; lines holding watch (if
// any) are also sent to lines, so the run can wait for the child to say
// it is ready.
type child struct {
	cmd    *exec.Cmd
	exited chan struct{}
	lines  chan string
	// ours is set when the run ended the process (a fault, a stop), so
	// that an exit it did not cause stands out.
	ours atomic.Bool
}

func startChild(exe string, args, env []string, logPath, watch string) (*child, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	c := &child{cmd: exec.Command(exe, args...), exited: make(chan struct{}), lines: make(chan string, 16)}
	if env != nil {
		c.cmd.Env = append(os.Environ(), env...)
	}
	c.cmd.Stdout = logf
	setDeathSignal(c.cmd) // children die with the run, even if it is killed
	var stderr io.ReadCloser
	if watch == "" {
		c.cmd.Stderr = logf
	} else if stderr, err = c.cmd.StderrPipe(); err != nil {
		logf.Close()
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	scanned := make(chan struct{})
	if stderr != nil {
		go c.scan(stderr, logf, watch, scanned)
	} else {
		close(scanned)
	}
	go func() {
		<-scanned // Wait closes the pipe; read it to the end first
		c.cmd.Wait()
		logf.Close()
		close(c.exited)
	}()
	return c, nil
}

func (c *child) scan(r io.Reader, logf io.Writer, watch string, done chan<- struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(logf, line)
		if strings.Contains(line, watch) {
			select {
			case c.lines <- line:
			default:
			}
		}
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) signal(s syscall.Signal) error { return c.cmd.Process.Signal(s) }

// done reports whether the process has exited.
func (c *child) done() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the exit.
func (c *child) kill() {
	c.ours.Store(true)
	c.signal(syscall.SIGKILL)
	<-c.exited
}

// stop asks the process to stop (SIGTERM) and waits up to timeout, then
// kills it. It reports whether the process stopped by itself, with
// status 0.
func (c *child) stop(timeout time.Duration) bool {
	c.ours.Store(true)
	c.signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		return c.cmd.ProcessState.Success()
	case <-time.After(timeout):
		c.kill()
		return false
	}
}

// waitLine waits for the next watched line, and fails if the process
// exits or timeout passes first.
func (c *child) waitLine(timeout time.Duration) error {
	select {
	case <-c.lines:
		return nil
	case <-c.exited:
		return fmt.Errorf("exited (%v) before it was ready", c.cmd.ProcessState)
	case <-time.After(timeout):
		return fmt.Errorf("not ready after %v", timeout)
	}
}

// drainLines forgets watched lines seen so far, before waiting for a
// new one.
func (c *child) drainLines() {
	for {
		select {
		case <-c.lines:
		default:
			return
		}
	}
}

// exitStatus describes how the process ended.
func (c *child) exitStatus() string { return c.cmd.ProcessState.String() }
