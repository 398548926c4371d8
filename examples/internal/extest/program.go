package extest

import (
	"os"
	"os/exec"
	"strings"
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

// Program is an example running as a child process (brokertest.Child).
// Every line it prints on stdout is an event the test reads with Next;
// stderr is kept for failure messages.
type Program struct {
	Name string
	Seen []string // every line read so far, by Next, Kill, Died or Stop
	c    *brokertest.Child
}

// Start runs command (from GoProgram or PythonProgram) with args. The
// process is killed when the test ends if it is still running.
func Start(t *testing.T, name string, command []string, args ...string) *Program {
	t.Helper()
	argv := append(append([]string{}, command...), args...)
	return &Program{Name: name, c: brokertest.StartChild(t, name, argv[0], argv[1:]...)}
}

// Next returns the next line the program prints. It fails the test if the
// program exits first or the deadline passes.
func (p *Program) Next(t *testing.T, deadline <-chan time.Time) string {
	t.Helper()
	l := p.c.Next(t, deadline)
	p.Seen = append(p.Seen, l)
	return l
}

// Kill sends SIGKILL, waits for the process to end and reads what it
// printed before it died into Seen.
func (p *Program) Kill() { p.Seen = append(p.Seen, p.c.Kill()...) }

// Died waits for a program that kills itself (a crash the test asked it
// for) and checks that SIGKILL ended it.
func (p *Program) Died(t *testing.T, d time.Duration) {
	t.Helper()
	p.Seen = append(p.Seen, p.c.Died(t, d)...)
}

// Stop sends SIGTERM, which every example takes as "finish the work in
// hand and exit", and checks it exits 0 within d.
func (p *Program) Stop(t *testing.T, d time.Duration) {
	t.Helper()
	p.Seen = append(p.Seen, p.c.Stop(t, d)...)
}

// Stderr returns what the program wrote on stderr so far.
func (p *Program) Stderr() string { return p.c.Stderr.String() }
