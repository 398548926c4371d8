package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"sluice/internal/brokertest"
)

// needTool skips when a Debian tool is missing on a developer machine; in
// CI (CI=true) a missing tool fails the test instead, since .ci/run
// installs it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed in CI", name)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, name)
	}
	return p
}

// librdkafka through kcat: metadata, 1,000 lines produced with acks=all,
// consumed back exactly, in order.
func TestKcat(t *testing.T) {
	kcat := needTool(t, "kcat")
	b := brokertest.Start(t)
	topic := topicName(t, "kcat")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)

	run := func(stdin []byte, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, kcat, append([]string{"-b", b.Addr()}, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("kcat %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}

	md := run(nil, "-L", "-t", topic)
	if !strings.Contains(md, "1 brokers:") || !strings.Contains(md, fmt.Sprintf("topic \"%s\" with 1 partitions", topic)) {
		t.Fatalf("kcat -L:\n%s", md)
	}

	var in bytes.Buffer
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&in, "line-%d\n", i)
	}
	run(in.Bytes(), "-P", "-t", topic, "-X", "acks=all")

	out := run(nil, "-C", "-t", topic, "-o", "beginning", "-e", "-q")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1000 {
		t.Fatalf("consumed %d lines, want 1000", len(lines))
	}
	for i, l := range lines {
		if l != fmt.Sprintf("line-%d", i) {
			t.Fatalf("line %d is %q", i, l)
		}
	}
}
