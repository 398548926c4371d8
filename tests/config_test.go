package tests

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sluice/internal/brokertest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the actual output")

// serveCmd is `sluice serve ARGS` run in dir with the test's environment
// less any SLUICE_ variable, plus env.
func serveCmd(t *testing.T, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(brokertest.Binary(t), append([]string{"serve"}, args...)...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLUICE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// runServe runs a serve that is expected to exit by itself and returns its
// stdout, stderr and exit code.
func runServe(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := serveCmd(t, dir, env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("sluice serve %v did not exit:\n%s", args, stderr.String())
	}
	return "", "", 0
}

var servingRE = regexp.MustCompile(`sluice: serving"? listen=(\S+)`)

// startServe starts a broker that should keep running and returns the
// address its log says it listens on, and its log so far.
func startServe(t *testing.T, dir string, env []string, args ...string) (string, *brokertest.SyncBuffer) {
	t.Helper()
	cmd := serveCmd(t, dir, env, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log := &brokertest.SyncBuffer{}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.Write([]byte(sc.Text() + "\n"))
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		close(addr)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("sluice serve exited before listening:\n%s", log.String())
		}
		return a, log
	case <-time.After(60 * time.Second):
		t.Fatalf("sluice serve did not start listening:\n%s", log.String())
	}
	return "", nil
}

// occupied returns an address on this machine that a listener holds
// until the test ends: a broker told to listen there cannot start.
func occupied(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The file, the environment and a flag at once: each setting comes from
// the highest source that gives it, as the running broker shows. The
// listen addresses of the file and the environment are held by the test,
// so the broker could not start on either.
func TestServeSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sluice.properties"), `# Kafka's names
listen=`+occupied(t)+`
log.dirs=data-from-file
auto.create.topics.enable=true
num.partitions=2
log.retention.ms=3600000
log.segment.bytes=2000000
`)
	env := []string{"SLUICE_LISTEN=" + occupied(t), "SLUICE_NUM_PARTITIONS=3", "SLUICE_LOG_SEGMENT_BYTES=3000000"}
	addr, log := startServe(t, dir, env, "--config", "sluice.properties", "--listen", "127.0.0.1:0")

	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("listening on %s", addr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data-from-file", "__sluice_catalog")); err != nil {
		t.Fatalf("the data directory of the file is not used: %v", err)
	}
	for _, line := range []string{
		`msg="sluice: setting" name=listen value=127.0.0.1:0 source="flag --listen"`,
		`msg="sluice: setting" name=num.partitions value=3 source="env SLUICE_NUM_PARTITIONS"`,
		`msg="sluice: setting" name=log.retention.ms value=3600000 source=sluice.properties:6`,
	} {
		if !strings.Contains(log.String(), line) {
			t.Errorf("the log lacks %s:\n%s", line, log.String())
		}
	}

	topic := topicName(t, "auto")
	metadataFor(t, addr, 12, topic, true) // creates it
	if got := metadataFor(t, addr, 12, topic, true); got.ErrorCode != 0 || len(got.Partitions) != 3 {
		t.Fatalf("auto-created topic: code %d, %d partitions; want 3 (num.partitions from the environment)", got.ErrorCode, len(got.Partitions))
	}
	rcs, err := newAdmin(t, addr).DescribeTopicConfigs(testCtx(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"retention.ms":    "3600000 STATIC_BROKER_CONFIG", // the file's log.retention.ms
		"segment.bytes":   "3000000 STATIC_BROKER_CONFIG", // the environment's over the file's
		"retention.bytes": "-1 DEFAULT_CONFIG",            // nobody's
	}
	for _, c := range rc.Configs {
		if w, ok := want[c.Key]; ok {
			if got := c.MaybeValue() + " " + c.Source.String(); got != w {
				t.Errorf("%s: %s, want %s", c.Key, got, w)
			}
			delete(want, c.Key)
		}
	}
	if len(want) > 0 {
		t.Errorf("not described: %v", want)
	}

	brs, err := newAdmin(t, addr).DescribeBrokerConfigs(testCtx(t, 10*time.Second), 0)
	if err != nil {
		t.Fatal(err)
	}
	br, err := brs.On("0", nil)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]string{
		"num.partitions":        "3 STATIC_BROKER_CONFIG",
		"log.retention.ms":      "3600000 STATIC_BROKER_CONFIG",
		"log.retention.minutes": " DEFAULT_CONFIG", // not set: a null value
		"log.retention.bytes":   "-1 DEFAULT_CONFIG",
		"listen":                "127.0.0.1:0 STATIC_BROKER_CONFIG",
		"broker.id":             "0 STATIC_BROKER_CONFIG",
	}
	for _, c := range br.Configs {
		if w, ok := want[c.Key]; ok {
			if got := c.MaybeValue() + " " + c.Source.String(); got != w {
				t.Errorf("broker %s: %s, want %s", c.Key, got, w)
			}
			delete(want, c.Key)
		}
	}
	if len(want) > 0 {
		t.Errorf("broker configs not described: %v", want)
	}
}

// --print-config writes the effective settings with their sources, in the
// file's format, and starts nothing.
func TestServePrintConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sluice.properties"), "# from a Kafka server.properties\nnum.partitions=2\nlog.retention.hours=24\nlog.dirs=data\n")
	stdout, stderr, code := runServe(t, dir, []string{"SLUICE_NUM_PARTITIONS=3", "SLUICE_FSYNC=interval"},
		"--config", "sluice.properties", "--print-config", "--listen", "127.0.0.1:9093", "--fsync-interval", "250ms")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	path := filepath.Join("testdata", "serve_print_config.golden")
	if *update {
		writeFile(t, path, stdout)
	} else if want, err := os.ReadFile(path); err != nil || stdout != string(want) {
		t.Fatalf("output differs from %s (%v; go test -update rewrites it):\n%s", path, err, stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Fatalf("--print-config made the data directory: %v", err)
	}
}

// --check-config exits 0 on good settings and 2 with every problem,
// creating nothing either way.
func TestServeCheckConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "good.properties"), "log.dirs=new/data\nlog.retention.hours=24\n")
	stdout, stderr, code := runServe(t, dir, []string{"SLUICE_NODE_ID=1"}, "--config", "good.properties", "--check-config")
	if code != 0 || stderr != "" || stdout != "sluice serve: the settings are valid and the data directory is usable\n" {
		t.Fatalf("good settings: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	writeFile(t, filepath.Join(dir, "a-file"), "")
	writeFile(t, filepath.Join(dir, "bad.properties"), "log.dirs=a-file/data\nlog.retention.ms=abc\nzookeeper.connect=zk:2181\n")
	stdout, stderr, code = runServe(t, dir, []string{"SLUICE_NUM_PARTITIONS=0", "SLUICE_LOG_RETENTON_HOURS=1"},
		"--config", "bad.properties", "--check-config", "--fsync", "sometimes")
	want := `sluice serve: log.retention.ms=abc (bad.properties:2): not a number of milliseconds
sluice serve: zookeeper.connect=zk:2181 (bad.properties:3): unknown setting
sluice serve: SLUICE_LOG_RETENTON_HOURS=1 (env SLUICE_LOG_RETENTON_HOURS): unknown SLUICE_ variable; did you mean SLUICE_LOG_RETENTION_HOURS?
sluice serve: num.partitions=0 (env SLUICE_NUM_PARTITIONS): must be at least 1
sluice serve: fsync=sometimes (flag --fsync): must be one of always, interval, never
sluice serve: log.dirs=a-file/data (bad.properties:1): cannot be created: a-file is not a directory
`
	if code != 2 || stdout != "" || stderr != want {
		t.Fatalf("bad settings: exit %d, stdout %q, stderr:\n%s\nwant:\n%s", code, stdout, stderr, want)
	}
	names, err := os.ReadDir(dir)
	if err != nil || len(names) != 3 {
		t.Fatalf("--check-config changed %s: %v %v", dir, names, err)
	}
}

// Without --check-config a bad setting stops the start the same way: exit
// 2, the message, nothing created.
func TestServeRefusesBadSetting(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sluice.properties"), "log.dirs=data\nlog.retention.ms=abc\n")
	stdout, stderr, code := runServe(t, dir, nil, "--config", "sluice.properties", "--listen", "127.0.0.1:0")
	want := "sluice serve: log.retention.ms=abc (sluice.properties:2): not a number of milliseconds\n"
	if code != 2 || stdout != "" || stderr != want {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant:\n%s", code, stdout, stderr, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Fatalf("a refused start made the data directory: %v", err)
	}

	_, stderr, code = runServe(t, dir, nil, "--config", "missing.properties", "--check-config")
	if code != 2 || stderr != "sluice serve: config file: open missing.properties: no such file or directory\n" {
		t.Fatalf("a missing file: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runServe(t, dir, nil, "--config", "sluice.properties", "log.retention.ms=1")
	if code != 2 || stderr != "sluice serve: unexpected argument \"log.retention.ms=1\"\n" {
		t.Fatalf("an argument: exit %d, stderr %q", code, stderr)
	}
}
