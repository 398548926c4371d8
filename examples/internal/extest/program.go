package extest

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"sluice/internal/brokertest"
)

// GoProgram builds the example in pkg (a path from the module root, such
// as "./examples/at-least-once") with the race detector, once per test
// process, and returns the command that runs it.
func GoProgram(t *testing.T, pkg string) []string {
	t.Helper()
	return []string{brokertest.BuildPackage(t, pkg)}
}

// PythonProgram returns the command that runs script with Debian's
// /usr/bin/python3 when it imports confluent_kafka
// (python3-confluent-kafka). Without it the test is skipped, except in CI
// (CI set), where .ci/run installs it and its absence fails the test.
func PythonProgram(t *testing.T, script string) []string {
	t.Helper()
	const py = "/usr/bin/python3"
	out, err := exec.Command(py, "-c", "import confluent_kafka; print(confluent_kafka.version()[0], confluent_kafka.libversion()[0])").CombinedOutput()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s cannot import confluent_kafka in CI: %v\n%s", py, err, out)
		}
		t.Skipf("%s cannot import confluent_kafka (apt-get install python3-confluent-kafka): %v", py, err)
	}
	t.Logf("confluent-kafka %s", strings.TrimSpace(string(out)))
	return []string{py, "-u", script}
}

// Program is an example running as a child process. Every line it prints
// on stdout is an event the test reads with Next; stderr is kept for
// failure messages.
type Program struct {
	Name   string
	cmd    *exec.Cmd
	lines  chan string
	Seen   []string // every line read so far, by Next, Drain or Stop
	stderr *brokertest.SyncBuffer
	exited chan struct{}
	err    error // cmd.Wait's result, set before exited is closed
}

// Start runs command (from GoProgram or PythonProgram) with args. The
// process is killed when the test ends if it is still running.
func Start(t *testing.T, name string, command []string, args ...string) *Program {
	t.Helper()
	argv := append(append([]string{}, command...), args...)
	p := &Program{
		Name:   name,
		cmd:    exec.Command(argv[0], argv[1:]...),
		lines:  make(chan string, 1<<16),
		stderr: &brokertest.SyncBuffer{},
		exited: make(chan struct{}),
	}
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	})
	return p
}

// Next returns the next line the program prints. It fails the test if the
// program exits first or the deadline passes.
func (p *Program) Next(t *testing.T, deadline <-chan time.Time) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			<-p.exited
			t.Fatalf("%s exited (%v) early; its stderr:\n%s", p.Name, p.err, p.stderr.String())
		}
		p.Seen = append(p.Seen, l)
		return l
	case <-deadline:
		t.Fatalf("%s: no progress before the deadline; its stderr:\n%s", p.Name, p.stderr.String())
	}
	return ""
}

// Kill sends SIGKILL, waits for the process to end and reads what it
// printed before it died into Seen.
func (p *Program) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	p.drain()
}

// Died waits for a program that kills itself (a crash the test asked it
// for) and checks that SIGKILL ended it.
func (p *Program) Died(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		t.Fatalf("%s did not die within %v; its stderr:\n%s", p.Name, d, p.stderr.String())
	}
	p.drain()
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("%s ended with %v, not SIGKILL; its stderr:\n%s", p.Name, p.cmd.ProcessState, p.stderr.String())
	}
}

func (p *Program) drain() {
	for l := range p.lines {
		p.Seen = append(p.Seen, l)
	}
	<-p.exited
}

// Stop sends SIGTERM, which every example takes as "finish the work in
// hand and exit", and checks it exits 0 within d.
func (p *Program) Stop(t *testing.T, d time.Duration) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(d):
		t.Fatalf("%s did not stop within %v of SIGTERM; its stderr:\n%s", p.Name, d, p.stderr.String())
	}
	p.drain()
	if p.err != nil {
		t.Fatalf("%s: %v; its stderr:\n%s", p.Name, p.err, p.stderr.String())
	}
}

// Stderr returns what the program wrote on stderr so far.
func (p *Program) Stderr() string { return p.stderr.String() }
