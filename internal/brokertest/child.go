package brokertest

import (
	"bufio"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Child is a client program run by a test as a child process: its stdout
// is read line by line (the progress lines a test waits for before it
// injects a fault), its stderr kept for failure messages.
type Child struct {
	Name   string
	Stderr *SyncBuffer

	cmd    *exec.Cmd
	lines  chan string
	exited chan struct{}
	err    error // cmd.Wait's result, set before exited is closed
}

// StartChild runs bin with args; it is killed when the test ends.
func StartChild(t testing.TB, name, bin string, args ...string) *Child {
	t.Helper()
	return StartChildEnv(t, nil, name, bin, args...)
}

// StartChildEnv is StartChild with variables added to the environment.
func StartChildEnv(t testing.TB, env []string, name, bin string, args ...string) *Child {
	t.Helper()
	c := &Child{
		Name:   name,
		Stderr: &SyncBuffer{},
		cmd:    exec.Command(bin, args...),
		lines:  make(chan string, 1<<16),
		exited: make(chan struct{}),
	}
	c.cmd.Stderr = c.Stderr
	if env != nil {
		c.cmd.Env = append(os.Environ(), env...)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() { c.Kill() })
	return c
}

// Next returns the next stdout line, failing the test if the process exits
// or the deadline passes first.
func (c *Child) Next(t testing.TB, deadline <-chan time.Time) string {
	t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			<-c.exited
			t.Fatalf("%s exited (%v) early:\n%s", c.Name, c.err, c.Stderr.String())
		}
		return l
	case <-deadline:
		t.Fatalf("%s: no progress before the deadline:\n%s", c.Name, c.Stderr.String())
	}
	return ""
}

// Kill sends SIGKILL, waits for the process to end and returns the stdout
// lines it printed before it died that Next has not returned.
func (c *Child) Kill() []string {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	return c.rest()
}

// Stop sends SIGTERM and waits up to d for a clean exit (status 0); it
// returns the stdout lines Next has not returned.
func (c *Child) Stop(t testing.TB, d time.Duration) []string {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	return c.Wait(t, d)
}

// Wait waits up to d for the process to exit with status 0 and returns
// the stdout lines Next has not returned.
func (c *Child) Wait(t testing.TB, d time.Duration) []string {
	t.Helper()
	var rest []string
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-c.lines:
			if ok {
				rest = append(rest, l)
				continue
			}
			<-c.exited
			if c.err != nil {
				t.Fatalf("%s: %v\n%s", c.Name, c.err, c.Stderr.String())
			}
			return rest
		case <-deadline:
			t.Fatalf("%s did not exit within %v:\n%s", c.Name, d, c.Stderr.String())
		}
	}
}

func (c *Child) rest() []string {
	var rest []string
	for l := range c.lines { // closed at the end of stdout
		rest = append(rest, l)
	}
	<-c.exited
	return rest
}

// Died waits up to d for a process that kills itself (a crash the test
// asked it for), checks that SIGKILL ended it, and returns the stdout
// lines Next has not returned.
func (c *Child) Died(t testing.TB, d time.Duration) []string {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(d):
		t.Fatalf("%s did not die within %v:\n%s", c.Name, d, c.Stderr.String())
	}
	rest := c.rest()
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("%s ended with %v, not SIGKILL:\n%s", c.Name, c.cmd.ProcessState, c.Stderr.String())
	}
	return rest
}
