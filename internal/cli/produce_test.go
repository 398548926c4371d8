package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/brokertest"
)

// running is a command running in-process in a goroutine.
type running struct {
	done           chan struct{}
	stdout, stderr string
	code           int
}

func startCLI(args ...string) *running {
	r := &running{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.stdout, r.stderr, r.code = runCLI(args...)
	}()
	return r
}

func (r *running) wait(t *testing.T) *running {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(60 * time.Second):
		t.Fatal("the command did not end")
	}
	return r
}

// fifo makes a named pipe for a command to read as its input file, so the
// test hands it lines while it runs. The returned writer opens the pipe on
// its first write (opening blocks until the command opens it to read).
func fifo(t *testing.T) (path string, w *fifoWriter) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "input")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	w = &fifoWriter{t: t, path: path}
	t.Cleanup(w.close)
	return path, w
}

type fifoWriter struct {
	t    *testing.T
	path string
	once sync.Once
	f    *os.File
}

func (w *fifoWriter) write(lines ...string) {
	w.once.Do(func() {
		f, err := os.OpenFile(w.path, os.O_WRONLY, 0)
		if err != nil {
			w.t.Fatal(err)
		}
		w.f = f
	})
	if _, err := w.f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		w.t.Fatal(err)
	}
}

func (w *fifoWriter) close() {
	if w.f != nil {
		w.f.Close()
	}
}

// readValues reads n records of topic from its start and returns their
// values.
func readValues(t *testing.T, addr, topic string, n int, opts ...kgo.Opt) []string {
	t.Helper()
	cl := brokertest.Client(t, addr, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	ctx := brokertest.Context(t, 30*time.Second)
	var got []string
	for len(got) < n {
		fs := cl.PollRecords(ctx, n-len(got))
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s: %q", len(got), n, topic, got)
		}
		for _, r := range fs.Records() {
			got = append(got, string(r.Value))
		}
	}
	return got
}

func createTopic(t *testing.T, addr, topic string, partitions int32) {
	t.Helper()
	resp, err := brokertest.Admin(t, addr).CreateTopic(brokertest.Context(t, 30*time.Second), partitions, 1, nil, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", topic, err, resp.Err)
	}
}

var summaryTimeRe = regexp.MustCompile(`in [0-9.]+s \([^)]*\)\.$`)

// wantSummary checks a summary line, its elapsed time and rates masked.
func wantSummary(t *testing.T, got, want string) {
	t.Helper()
	if masked := summaryTimeRe.ReplaceAllString(strings.TrimSuffix(got, "\n"), "in ELAPSED."); masked != want {
		t.Fatalf("summary\n  %q\nwant\n  %q", got, want)
	}
}

// A transactional producer that another producer with the same
// transactional id takes over stops at its next write: it says so, keeps
// what it committed and commits nothing more.
func TestProduceFencedProducerStops(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t)
	createTopic(t, b.Addr(), "out", 1)
	path, in := fifo(t)
	r := startCLI("produce", "--topic", "out", "--guarantee", "exactly-once", "--transactional-id", "loader",
		"--txn-records", "1", path, "--brokers", b.Addr())
	in.write("1", "2")
	committed := kgo.FetchIsolationLevel(kgo.ReadCommitted())
	readValues(t, b.Addr(), "out", 2, committed) // both transactions committed

	fencer := brokertest.Client(t, b.Addr(), kgo.TransactionalID("loader"), kgo.DefaultProduceTopic("out"))
	if err := fencer.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	ctx := brokertest.Context(t, 30*time.Second)
	if err := fencer.ProduceSync(ctx, &kgo.Record{Value: []byte("fencer")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := fencer.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	in.write("3")
	in.close()

	r.wait(t)
	wantSummary(t, r.stdout, `Produced 2 records (2 B) to "out" in 2 committed transactions with exactly-once (transactional id "loader") in ELAPSED.`)
	wantErr := `sluice produce: another producer took over transactional id "loader", so this one was fenced and stopped ` +
		`(its open transaction is aborted; transactions it committed stay): give each running producer its own --transactional-id (`
	if r.code != 1 || !strings.HasPrefix(r.stderr, wantErr) || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("fenced producer: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	// The fencer's commit is the last: "3" never became visible.
	produceMarker(t, b.Addr(), "out", "end")
	if got := readValues(t, b.Addr(), "out", 4, committed); strings.Join(got, ",") != "1,2,fencer,end" {
		t.Fatalf("read_committed after the fencing: %q", got)
	}
}

// produceMarker writes one more record, so a reader that reaches it has
// seen everything before it.
func produceMarker(t *testing.T, addr, topic, value string) {
	t.Helper()
	cl := brokertest.Client(t, addr, kgo.DefaultProduceTopic(topic))
	if err := cl.ProduceSync(brokertest.Context(t, 30*time.Second), &kgo.Record{Value: []byte(value)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// A broker that goes away while records wait ends the command after
// --timeout without an acknowledgement, with what was delivered before.
func TestProduceGivesUpOnAStalledBroker(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t)
	createTopic(t, b.Addr(), "out", 1)
	path, in := fifo(t)
	r := startCLI("produce", "--topic", "out", path, "--brokers", b.Addr(), "--timeout", "1s")
	in.write("1")
	readValues(t, b.Addr(), "out", 1)
	b.Close()
	in.write("2")
	in.close()

	r.wait(t)
	wantSummary(t, r.stdout, `Produced 1 record (1 B) to "out" with at-least-once (acks=all, retries, idempotence) in ELAPSED.`)
	if r.code != 1 || r.stderr != "sluice produce: no acknowledgement from the brokers for 1s; records not acknowledged may or may not have been written\n" {
		t.Fatalf("stalled broker: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
}

// The sluice binary reads stdin when no file is named.
func TestProduceReadsStdin(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t)
	createTopic(t, b.Addr(), "out", 1)
	cmd := exec.Command(brokertest.Binary(t), "produce", "--topic", "out", "--format", "kv", "--separator", "=", "--brokers", b.Addr())
	cmd.Stdin = strings.NewReader("a=1\nb=2\n")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sluice produce: %v\n%s", err, stderr.String())
	}
	wantSummary(t, stdout.String(), `Produced 2 records (4 B) to "out" with at-least-once (acks=all, retries, idempotence) in ELAPSED.`)
	if stderr.Len() != 0 {
		t.Fatalf("stderr: %s", stderr.String())
	}
	if got := readValues(t, b.Addr(), "out", 2); strings.Join(got, ",") != "1,2" {
		t.Fatalf("values %q", got)
	}
}

// notifyWriter passes each write to a channel.
type notifyWriter chan string

func (w notifyWriter) Write(p []byte) (int, error) { w <- string(p); return len(p), nil }

// The progress line rewrites itself in place and is erased at the end.
func TestProgressLine(t *testing.T) {
	t.Parallel()
	var c counter
	c.add(12345, 3<<20)
	w := make(notifyWriter, 100)
	stop := showProgress(w, &c, 0, time.Millisecond)
	line := <-w
	stop()
	if !regexp.MustCompile(`^\r\033\[K12345 records, 3\.0 MiB, 0s \(\d+ records/s, [0-9.]+ [KMGT]iB/s\)$`).MatchString(line) {
		t.Fatalf("progress line %q", line)
	}
	var last string
	for len(w) > 0 {
		last = <-w
	}
	if last != "\r\033[K" {
		t.Fatalf("the progress line was not erased: last write %q", last)
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
	if isTerminal(&strings.Builder{}) || isTerminal(os.Stderr) && !isTerminal(os.Stderr) {
		t.Error("a strings.Builder is not a terminal")
	}
}
