package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Each broker of a run is a child process (`sluice bench broker`), so that
// its CPU time is its own: the parent asks for it between phases over the
// child's stdin and stdout. The protocol, one line each way:
//
//	child:  "listening <host:port>"      once, when clients may connect
//	parent: "cpu"   child: "cpu <ns>"    user + system time used so far
//	parent: "begin" / "end"              with --profile-dir: a measured
//	                                     window starts or ends (no answer)
//
// The child shuts its broker down when stdin closes, so a bench that dies
// leaves no broker behind.

// ServeChild is the child's side: it starts a broker of kind k, announces
// it on out and answers the parent from in until in closes. With
// cfg.ProfileDir it profiles the broker's CPU in each measured window
// (<kind>.cpu.<n>.pprof; pprof merges them when given all) and writes
// where its goroutines blocked and waited for locks over its life
// (<kind>.block.pprof, <kind>.mutex.pprof) when it stops.
func ServeChild(k Kind, cfg Config, in io.Reader, out io.Writer) error {
	prof := newProfiler(cfg.ProfileDir, k)
	defer prof.finish()
	p, err := StartPeer(k, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "listening %s\n", p.Addr)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		switch sc.Text() {
		case "cpu":
			fmt.Fprintf(out, "cpu %d\n", cpuTime())
		case "begin":
			prof.begin()
		case "end":
			prof.end()
		}
	}
	return p.Close()
}

// child is a running `sluice bench broker`.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
	mu    sync.Mutex // one query at a time
	// profiling says the child profiles windows: the parent marks them.
	profiling bool
}

// startChild runs bin as `bench broker` of kind k and waits until it
// listens.
func startChild(bin string, k Kind, cfg Config) (*child, string, error) {
	args := []string{"bench", "broker", "--kind", string(k), "--data-dir", cfg.DataDir, "--fsync", cfg.Fsync.String()}
	if cfg.ProfileDir != "" {
		args = append(args, "--profile-dir", cfg.ProfileDir)
	}
	if k == KindSluice && cfg.Journal {
		args = append(args, "--journal")
	}
	if k == KindSluice && cfg.TxnStatePartitions > 0 {
		args = append(args, "--transaction-state-partitions", strconv.Itoa(int(cfg.TxnStatePartitions)))
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start %s broker: %w", k, err)
	}
	c := &child{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout), profiling: cfg.ProfileDir != ""}
	addr, err := c.expect("listening")
	if err != nil {
		c.close()
		return nil, "", fmt.Errorf("%s broker: %w", k, err)
	}
	return c, addr, nil
}

// expect reads the next line, which must start with word, and returns
// the rest.
func (c *child) expect(word string) (string, error) {
	if !c.lines.Scan() {
		return "", fmt.Errorf("exited before %q: %v", word, c.lines.Err())
	}
	rest, ok := strings.CutPrefix(c.lines.Text(), word+" ")
	if !ok {
		return "", fmt.Errorf("said %q, want %q", c.lines.Text(), word)
	}
	return rest, nil
}

// cpu is the CPU time the child has used.
func (c *child) cpu() (time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.stdin, "cpu\n"); err != nil {
		return 0, err
	}
	s, err := c.expect("cpu")
	if err != nil {
		return 0, err
	}
	ns, err := strconv.ParseInt(s, 10, 64)
	return time.Duration(ns), err
}

// mark tells a profiling child that a measured window begins or ends.
func (c *child) mark(word string) {
	if !c.profiling {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(c.stdin, word+"\n")
}

// close asks the child to stop and waits; one that does not stop within
// a minute (a broker syncing its last writes) is killed.
func (c *child) close() error {
	c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		return errors.Join(errors.New("bench broker did not stop; killed"), c.cmd.Process.Kill(), <-done)
	}
}
