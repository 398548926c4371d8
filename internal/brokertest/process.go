package brokertest

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Process is a broker running as a child process.
type Process struct {
	Addr    string
	DataDir string
	Args    []string
	cmd     *exec.Cmd
	Log     *SyncBuffer
	exited  chan struct{}
}

var listenRE = regexp.MustCompile(`sluice: serving"? listen=(\S+)`)

// listeningRE matches the line logged for each listener: its name and
// its address.
var listeningRE = regexp.MustCompile(`sluice: listening"? listener=(\S+) security=\S+ listen=(\S+)`)

// StartProcess runs `sluice serve` on 127.0.0.1:0 over dataDir with extra
// flags and waits until it listens; extra flags that give --listeners
// replace the listen address. The process is killed when the test ends.
func StartProcess(t testing.TB, dataDir string, extra ...string) *Process {
	t.Helper()
	return StartProcessBinary(t, Binary(t), dataDir, extra...)
}

// StartProcessBinary is StartProcess with the sluice binary at bin (one
// built without the race detector, say).
func StartProcessBinary(t testing.TB, bin, dataDir string, extra ...string) *Process {
	t.Helper()
	args := []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "debug"}
	if slices.ContainsFunc(extra, func(a string) bool { return a == "--listeners" || strings.HasPrefix(a, "--listeners=") }) {
		args = slices.Delete(args, 1, 3) // the short form and --listeners do not go together
	}
	args = append(args, extra...)
	p := &Process{DataDir: dataDir, Args: extra, Log: &SyncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go p.scan(stderr, addr)
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.Kill() })
	select {
	case a := <-addr:
		p.Addr = a
	case <-p.exited:
		t.Fatalf("sluice exited before listening:\n%s", p.Log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("sluice did not start listening:\n%s", p.Log.String())
	}
	return p
}

func (p *Process) scan(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		p.Log.Write([]byte(line + "\n"))
		if m := listenRE.FindStringSubmatch(line); m != nil {
			select {
			case addr <- m[1]:
			default:
			}
		}
	}
}

// ListenerAddr is the address the named listener listens on, as the
// broker logged it before it logged serving; "" for none.
func (p *Process) ListenerAddr(name string) string {
	for _, m := range listeningRE.FindAllStringSubmatch(p.Log.String(), -1) {
		if m[1] == name {
			return m[2]
		}
	}
	return ""
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Kill sends SIGKILL and waits for the process to exit.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// Stop sends SIGTERM and waits for a graceful exit.
func (p *Process) Stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exited
	if !p.cmd.ProcessState.Success() {
		return fmt.Errorf("sluice exited with %v", p.cmd.ProcessState)
	}
	return nil
}
