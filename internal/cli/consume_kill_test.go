package cli

// `sluice consume` killed with SIGKILL in the middle of a stream and
// started again, as a child process: what each guarantee promises about
// the records it handed out (printed, or copied to --to) across the crash.
//
// "In the middle" is an event: the kill follows the killCount-th printed
// record (or copied record, read back from the output topic), with
// thousands more to come. The consumer prints into a pipe of one page that
// the test stops reading at that record, so when the kill comes the
// consumer is stuck writing: in the middle of a poll's records (a poll's
// worth of JSON is a hundred pages), where the order of printing and
// committing shows.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
)

const (
	killInput      = 6000 // records in the input topic, keyed "r0" ... "r5999"
	killPartitions = 3
	killCount      = 2250 // records handed out before the kill
	killValueSize  = 1000
)

// killFixture is a broker with the input topic "in" filled.
type killFixture struct {
	addr string
}

func setupKill(t *testing.T) *killFixture {
	t.Helper()
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) { c.GroupInitialRebalanceDelay = -1 }))
	f := &killFixture{addr: b.Addr()}
	createTopic(t, f.addr, "in", killPartitions)
	cl := brokertest.Client(t, f.addr, kgo.DefaultProduceTopic("in"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	recs := make([]*kgo.Record, killInput)
	value := []byte(strings.Repeat("x", killValueSize))
	for i := range recs {
		recs[i] = &kgo.Record{Partition: int32(i % killPartitions), Key: []byte("r" + strconv.Itoa(i)), Value: value}
	}
	if err := cl.ProduceSync(brokertest.Context(t, 60*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return f
}

// child is `sluice consume` running as a child process.
type child struct {
	cmd    *exec.Cmd
	stdout *os.File // the read end of its one-page stdout pipe
	lines  *bufio.Reader
	stderr *brokertest.SyncBuffer
}

// fSetPipeSize is Linux's F_SETPIPE_SZ.
const fSetPipeSize = 1031

func (f *killFixture) start(t *testing.T, args ...string) *child {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, w.Fd(), fSetPipeSize, uintptr(os.Getpagesize())); errno != 0 {
		t.Fatalf("shrink the pipe: %v", errno)
	}
	c := &child{stdout: r, lines: bufio.NewReaderSize(r, 512), stderr: &brokertest.SyncBuffer{}}
	// The broker's shortest session: a restarted consumer waits that long
	// for the killed one to leave the group.
	c.cmd = exec.Command(brokertest.Binary(t), append([]string{"consume", "--brokers", f.addr, "--session-timeout", "6s"}, args...)...)
	c.cmd.Stdout, c.cmd.Stderr = w, c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { c.cmd.Process.Kill(); r.Close() })
	return c
}

// next returns the next whole line of stdout; ok is false at its end.
func (c *child) next(t *testing.T) (line string, ok bool) {
	t.Helper()
	c.stdout.SetReadDeadline(time.Now().Add(60 * time.Second))
	line, err := c.lines.ReadString('\n')
	switch {
	case err == nil:
		return strings.TrimSuffix(line, "\n"), true
	case err == io.EOF:
		// A line cut short by the kill was not handed out.
		return "", false
	}
	t.Fatalf("read the output: %v (after %q); stderr:\n%s", err, line, c.stderr.String())
	return "", false
}

// take reads n lines; the process must not end before.
func (c *child) take(t *testing.T, n int) []string {
	t.Helper()
	var lines []string
	for len(lines) < n {
		line, ok := c.next(t)
		if !ok {
			t.Fatalf("consume ended after %d records; stderr:\n%s", len(lines), c.stderr.String())
		}
		lines = append(lines, line)
	}
	return lines
}

// kill sends SIGKILL and returns what the process printed before it died
// that the test had not read yet.
func (c *child) kill(t *testing.T) []string {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGKILL)
	return c.rest(t)
}

// rest reads stdout to its end and waits for the process.
func (c *child) rest(t *testing.T) []string {
	t.Helper()
	var out []string
	for {
		line, ok := c.next(t)
		if !ok {
			break
		}
		out = append(out, line)
	}
	c.cmd.Wait()
	return out
}

// printed is one record of consume's JSON output.
type printed struct {
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Key       string `json:"key"`
}

func parsePrinted(t *testing.T, lines []string) []printed {
	t.Helper()
	out := make([]printed, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &out[i]); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
	}
	return out
}

// killMidStream starts consume in group with guarantee g, reads
// killCount records and kills it. It returns what was printed, the group's
// committed offsets after the kill, and one past the highest offset
// printed, per partition.
func (f *killFixture) killMidStream(t *testing.T, group, g string) (first []printed, committed, printedTo map[int32]int64) {
	t.Helper()
	c := f.start(t, killArgs(group, g)...)
	lines := c.take(t, killCount)
	first = parsePrinted(t, append(lines, c.kill(t)...))
	if len(first) >= killInput {
		t.Fatalf("the kill came after the end of the stream (%d records printed)", len(first))
	}
	return first, f.committed(t, group), nextOffsets(first)
}

// wantWithinOnePoll fails when a crash lost or repeated more than one poll
// of records per partition.
func wantWithinOnePoll(t *testing.T, n int, what string) {
	t.Helper()
	if n > killPartitions*maxPollRecords {
		t.Errorf("%d records %s; a crash may do that to one poll of %d per partition at most", n, what, maxPollRecords)
	}
}

// committed is the group's committed offset per partition of the input
// (absent: none), read once no undecided transaction holds one of them
// (see brokertest.StableCommitted). A copier killed between its
// TxnOffsetCommit and its EndTxn leaves its transaction open until its
// timeout (franz-go's default, 40 s) aborts it: the bound is above that.
func (f *killFixture) committed(t *testing.T, group string) map[int32]int64 {
	t.Helper()
	return brokertest.StableCommitted(t, f.addr, group, "in", 60*time.Second)
}

// nextOffsets is one past the highest offset printed, per partition.
func nextOffsets(recs []printed) map[int32]int64 {
	out := map[int32]int64{}
	for _, r := range recs {
		out[r.Partition] = max(out[r.Partition], r.Offset+1)
	}
	return out
}

// firstOffsets is the lowest offset printed, per partition.
func firstOffsets(recs []printed) map[int32]int64 {
	out := map[int32]int64{}
	for _, r := range recs {
		if o, ok := out[r.Partition]; !ok || r.Offset < o {
			out[r.Partition] = r.Offset
		}
	}
	return out
}

func countKeys(runs ...[]printed) map[string]int {
	seen := map[string]int{}
	for _, run := range runs {
		for _, r := range run {
			seen[r.Key]++
		}
	}
	return seen
}

func killArgs(group, g string) []string {
	return []string{"--topic", "in", "--group", group, "--guarantee", g, "--format", "json"}
}

// at-least-once: the group's commit never runs ahead of what was printed,
// so the restarted consumer resumes at or before the first record the
// killed one did not print: nothing is lost.
func TestConsumeAtLeastOnceKilledLosesNothing(t *testing.T) {
	t.Parallel()
	f := setupKill(t)
	first, committed, printedTo := f.killMidStream(t, "alo", "at-least-once")
	for p, c := range committed {
		if c > printedTo[p] {
			t.Fatalf("partition %d: committed %d but printed only up to offset %d: the records between are lost", p, c, printedTo[p]-1)
		}
	}

	c := f.start(t, killArgs("alo", "at-least-once")...)
	var second []printed
	for seen := countKeys(first); len(seen) < killInput; {
		line, ok := c.next(t)
		if !ok {
			t.Fatalf("the restarted consumer ended; stderr:\n%s", c.stderr.String())
		}
		r := parsePrinted(t, []string{line})[0]
		second = append(second, r)
		seen[r.Key]++
	}
	c.kill(t)
	for p, o := range firstOffsets(second) {
		if want := committed[p]; o != want {
			t.Errorf("partition %d: the restarted consumer began at offset %d, not at the commit %d", p, o, want)
		}
	}
	dups := 0
	for _, n := range countKeys(first, second) {
		dups += n - 1
	}
	t.Logf("first run printed %d, second %d; %d printed twice (after the last commit before the kill)", len(first), len(second), dups)
	wantWithinOnePoll(t, dups, "printed twice")
}

// at-most-once: the group's commit is ahead of (or at) what was printed,
// so the restarted consumer never prints a record again; the records
// committed but not printed at the kill are lost.
func TestConsumeAtMostOnceKilledRepeatsNothing(t *testing.T) {
	t.Parallel()
	f := setupKill(t)
	first, committed, printedTo := f.killMidStream(t, "amo", "at-most-once")
	remaining := int64(0)
	for p := range int32(killPartitions) {
		if committed[p] < printedTo[p] {
			t.Fatalf("partition %d: printed up to offset %d but committed only %d: those records will be printed again", p, printedTo[p]-1, committed[p])
		}
		remaining += int64(killInput/killPartitions) - committed[p]
	}
	if remaining == 0 {
		t.Fatal("everything was committed before the kill: not mid-stream")
	}

	c := f.start(t, append(killArgs("amo", "at-most-once"), "--max", strconv.FormatInt(remaining, 10))...)
	second := parsePrinted(t, c.rest(t))
	if c.cmd.ProcessState.ExitCode() != 0 || int64(len(second)) != remaining {
		t.Fatalf("restarted consumer: exit %d, %d records, want %d; stderr:\n%s", c.cmd.ProcessState.ExitCode(), len(second), remaining, c.stderr.String())
	}
	for k, n := range countKeys(first, second) {
		if n > 1 {
			t.Fatalf("record %s printed %d times", k, n)
		}
	}
	lost := killInput - len(first) - len(second)
	t.Logf("first run printed %d, second %d; %d lost (committed, not printed, at the kill)", len(first), len(second), lost)
	wantWithinOnePoll(t, lost, "lost")
}

// exactly-once with --to: killed while copying, restarted with the same
// transactional id (which fences the dead one and aborts its open
// transaction), the copy holds every input record once for read_committed
// readers, and the group's committed offsets count exactly the records
// copied.
func TestConsumeExactlyOnceCopyKilledCopiesOnce(t *testing.T) {
	t.Parallel()
	f := setupKill(t)
	createTopic(t, f.addr, "out", killPartitions)
	args := []string{"--topic", "in", "--group", "copier", "--guarantee", "exactly-once", "--to", "out", "--transactional-id", "copier"}

	c := f.start(t, args...)
	readCommitted := brokertest.Client(t, f.addr, kgo.ConsumeTopics("out"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	keys := readKeysFrom(t, readCommitted, killCount)
	c.kill(t)

	copied := int64(0)
	for _, o := range f.committed(t, "copier") {
		copied += o
	}
	if copied < killCount || copied >= killInput {
		t.Fatalf("the group committed %d offsets after %d records were visible: not mid-stream", copied, killCount)
	}
	remaining := strconv.FormatInt(killInput-copied, 10)
	c = f.start(t, append(args, "--max", remaining)...)
	out := c.rest(t)
	if c.cmd.ProcessState.ExitCode() != 0 || len(out) != 1 {
		t.Fatalf("restarted copy: exit %d\nstdout:\n%q\nstderr:\n%s", c.cmd.ProcessState.ExitCode(), out, c.stderr.String())
	}
	summary := regexp.MustCompile(`^Copied ` + remaining + ` records \([0-9.]+ [KM]?i?B\) from "in" to "out" in \d+ committed transactions ` +
		`with exactly-once \(transactional id "copier", group "copier"\) in [0-9.]+s \([^)]*\)\.$`)
	if !summary.MatchString(out[0]) {
		t.Fatalf("restarted copy printed %q", out[0])
	}

	// A plain record after the copy in every partition: a reader that
	// reached all of them has read everything the copy committed.
	endCl := brokertest.Client(t, f.addr, kgo.DefaultProduceTopic("out"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for p := range int32(killPartitions) {
		if err := endCl.ProduceSync(brokertest.Context(t, 30*time.Second), &kgo.Record{Partition: p, Key: []byte("end")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	keys = append(keys, readKeysFrom(t, readCommitted, killInput-len(keys)+killPartitions)...)
	counts := map[string]int{}
	for _, k := range keys {
		counts[k]++
	}
	if counts["end"] != killPartitions {
		t.Fatalf("read %d end markers, want %d", counts["end"], killPartitions)
	}
	delete(counts, "end")
	for i := range killInput {
		if n := counts["r"+strconv.Itoa(i)]; n != 1 {
			t.Errorf("r%d is in the copy %d times", i, n)
		}
	}
	if len(counts) != killInput {
		t.Errorf("the copy holds %d distinct records, want %d", len(counts), killInput)
	}
}

// readKeysFrom polls n more records from cl and returns their keys.
func readKeysFrom(t *testing.T, cl *kgo.Client, n int) []string {
	t.Helper()
	ctx := brokertest.Context(t, 60*time.Second)
	var got []string
	for len(got) < n {
		fs := cl.PollRecords(ctx, n-len(got))
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records", len(got), n)
		}
		for _, r := range fs.Records() {
			got = append(got, string(r.Key))
		}
	}
	return got
}

// An interrupt (SIGINT, Ctrl-C) is the ordinary way to stop a consumer
// that has no --max: it finishes the poll it is printing, commits exactly
// what it printed, leaves the group and exits 0.
func TestConsumeInterruptCommitsWhatWasPrinted(t *testing.T) {
	t.Parallel()
	f := setupKill(t)
	c := f.start(t, killArgs("int", "at-least-once")...)
	lines := c.take(t, killCount)
	c.cmd.Process.Signal(syscall.SIGINT)
	recs := parsePrinted(t, append(lines, c.rest(t)...))
	if code := c.cmd.ProcessState.ExitCode(); code != 0 || c.stderr.String() != "" {
		t.Fatalf("interrupted consumer: exit %d, stderr:\n%s", code, c.stderr.String())
	}
	committed, printedTo := f.committed(t, "int"), nextOffsets(recs)
	if fmt.Sprint(committed) != fmt.Sprint(printedTo) {
		t.Fatalf("after the interrupt the group committed %v; it printed up to %v", committed, printedTo)
	}
	if len(recs) >= killInput {
		t.Fatalf("the interrupt came after the end of the stream (%d records printed)", len(recs))
	}
}
