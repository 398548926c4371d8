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

	"github.com/twmb/franz-go/pkg/kgo"

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

// librdkafka fetches without a session (id 0, epoch -1): kcat reads a
// six-partition topic back exactly, every partition in order.
func TestKcatReadsEveryPartition(t *testing.T) {
	kcat := needTool(t, "kcat")
	b := brokertest.Start(t)
	topic := topicName(t, "kcatp")
	const partitions, perPartition = 6, 50
	createTopic(t, newAdmin(t, b.Addr()), topic, partitions, nil)
	produceTo(t, b.Addr(), topic, partitions, perPartition, 0)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat, "-b", b.Addr(), "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p %o %s\n")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, errOut.String())
	}
	next := make([]int, partitions)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, l := range lines {
		var p, off, v int
		if _, err := fmt.Sscanf(l, "%d %d %d", &p, &off, &v); err != nil || p < 0 || p >= partitions {
			t.Fatalf("kcat line %q: %v", l, err)
		}
		if off != next[p] || v != next[p] {
			t.Fatalf("partition %d: offset %d value %d, want %d", p, off, v, next[p])
		}
		next[p]++
	}
	if len(lines) != partitions*perPartition {
		t.Fatalf("kcat read %d records, want %d", len(lines), partitions*perPartition)
	}
}

// Batches are stored as the producer compressed them, and every codec is
// readable back by franz-go and by librdkafka (kcat).
func TestEveryCodecReadableByEveryClient(t *testing.T) {
	kcat := needTool(t, "kcat")
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	for name, codec := range map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	} {
		t.Run(name, func(t *testing.T) {
			topic := topicName(t, name)
			createTopic(t, adm, topic, 1, nil)
			prod := newClient(t, b.Addr(), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic),
				kgo.ProducerBatchCompression(codec), kgo.ProducerLinger(50*time.Millisecond))
			var recs []*kgo.Record
			for i := 0; i < 200; i++ {
				recs = append(recs, &kgo.Record{Value: []byte(fmt.Sprintf("%s-%d", name, i))})
			}
			if err := prod.ProduceSync(testCtx(t, 10*time.Second), recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			for i, r := range consumeN(t, b.Addr(), topic, 200) {
				if string(r.Value) != fmt.Sprintf("%s-%d", name, i) {
					t.Fatalf("franz-go read %q at %d", r.Value, i)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, kcat, "-b", b.Addr(), "-C", "-t", topic, "-o", "beginning", "-e", "-q").Output()
			if err != nil {
				t.Fatalf("kcat: %v", err)
			}
			lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if len(lines) != 200 || lines[0] != name+"-0" || lines[199] != name+"-199" {
				t.Fatalf("kcat read %d lines: first %q last %q", len(lines), lines[0], lines[len(lines)-1])
			}

			// And the other way: librdkafka compresses, franz-go reads.
			var in bytes.Buffer
			for i := 0; i < 200; i++ {
				fmt.Fprintf(&in, "k-%d\n", i)
			}
			cmd := exec.CommandContext(ctx, kcat, "-b", b.Addr(), "-P", "-t", topic, "-z", name, "-X", "acks=all")
			cmd.Stdin = &in
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("kcat -P -z %s: %v\n%s", name, err, out)
			}
			got := consumeN(t, b.Addr(), topic, 400)
			for i, r := range got[200:] {
				if string(r.Value) != fmt.Sprintf("k-%d", i) {
					t.Fatalf("franz-go read %q from kcat's %s batch at %d", r.Value, name, i)
				}
			}
		})
	}
}
