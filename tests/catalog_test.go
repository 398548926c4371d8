package tests

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
)

const catalogFile = "__sluice_catalog/catalog.log"

var catalogTopics = []string{"orders", "payments", "shipments"}

// seededDataDir runs a broker that creates three topics of two partitions
// with 100 acknowledged records each, stops it cleanly and returns its
// data dir.
func seededDataDir(t *testing.T) string {
	t.Helper()
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	for _, topic := range catalogTopics {
		createTopic(t, adm, topic, 2, nil)
	}
	cl := newClient(t, b.Addr(), kgo.RequiredAcks(kgo.AllISRAcks()))
	for _, topic := range catalogTopics {
		var recs []*kgo.Record
		for i := range 100 {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i % 2), Value: val(i)})
		}
		if err := cl.ProduceSync(testCtx(t, 30*time.Second), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Cfg.DataDir
}

// treeOf returns every file and directory below dir with its contents.
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	tree := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			tree[rel+"/"] = ""
			return nil
		}
		data, err := os.ReadFile(p)
		tree[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func sameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, data := range before {
		if got, ok := after[p]; !ok || got != data {
			t.Errorf("%s changed or went missing", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared", p)
		}
	}
}

func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// catalogFrames returns the byte offset of each frame of a catalog in
// format 2: an 8-byte file header, then frames of a 12-byte header (length,
// payload CRC-32C, header CRC-32C) and the payload.
func catalogFrames(t *testing.T, b []byte) []int {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("SLCAT\x00\x00\x02")) {
		t.Fatalf("catalog does not start with the format-2 header: %q", b[:8])
	}
	var offs []int
	for pos := 8; pos < len(b); pos += 12 + int(binary.BigEndian.Uint32(b[pos:])) {
		offs = append(offs, pos)
	}
	return offs
}

// frameOf encodes a payload as a format-2 frame, written here from the
// documented format rather than with the broker's own encoder.
func frameOf(payload string) []byte {
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	h := make([]byte, 12)
	binary.BigEndian.PutUint32(h, uint32(len(payload)))
	binary.BigEndian.PutUint32(h[4:], crc32.Checksum([]byte(payload), castagnoli))
	binary.BigEndian.PutUint32(h[8:], crc32.Checksum(h[:8], castagnoli))
	return append(h, payload...)
}

// frameOfTopic returns the offset of the frame that creates topic.
func frameOfTopic(t *testing.T, b []byte, topic string) int {
	t.Helper()
	for _, off := range catalogFrames(t, b) {
		n := int(binary.BigEndian.Uint32(b[off:]))
		if bytes.Contains(b[off+12:off+12+n], []byte(`"create_topic","topic":"`+topic+`"`)) {
			return off
		}
	}
	t.Fatalf("no frame creates %s", topic)
	return 0
}

// Every kind of catalog damage: the broker refuses to start, names the
// file, the byte offset and the reason, and changes nothing on disk: the
// catalog and every partition directory are byte-identical afterwards.
func TestDamagedCatalogRefusesToStart(t *testing.T) {
	seeded := seededDataDir(t)
	good, err := os.ReadFile(filepath.Join(seeded, catalogFile))
	if err != nil {
		t.Fatal(err)
	}
	target := frameOfTopic(t, good, "payments")
	flip := func(at int) func([]byte) ([]byte, int) {
		return func(b []byte) ([]byte, int) { b[target+at] ^= 0x04; return b, target }
	}
	appendFrame := func(payload string) func([]byte) ([]byte, int) {
		return func(b []byte) ([]byte, int) { return append(b, frameOf(payload)...), len(b) }
	}
	cases := []struct {
		name   string
		damage func([]byte) ([]byte, int) // returns the damaged bytes and the offset to be named
		reason string
	}{
		{"bit flip in length", flip(2), "frame header CRC mismatch"},
		{"bit flip in payload CRC", flip(6), "frame header CRC mismatch"},
		{"bit flip in header CRC", flip(9), "frame header CRC mismatch"},
		{"bit flip in payload", flip(12 + 20), "record CRC mismatch"},
		{"frame cut from the middle", func(b []byte) ([]byte, int) {
			return append(b[:target+30:target+30], b[target+60:]...), target
		}, "record CRC mismatch"},
		{"newer record version", appendFrame(`{"v":99,"type":"create_topic","topic":"x"}`), "newer than this binary"},
		{"record that fails to apply", appendFrame(`{"v":1,"type":"delete_topic","topic":"no-such-topic"}`), "unknown topic"},
		{"garbage appended", func(b []byte) ([]byte, int) {
			return append(b, "a stray write of text at the end of the catalog"...), len(b)
		}, "frame header CRC mismatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyTree(t, seeded)
			damaged, offset := c.damage(bytes.Clone(good))
			if err := os.WriteFile(filepath.Join(dir, catalogFile), damaged, 0o644); err != nil {
				t.Fatal(err)
			}
			before := treeOf(t, dir)
			b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", DataDir: dir})
			if err == nil {
				b.Close()
				t.Fatal("the broker started on a damaged catalog")
			}
			msg := err.Error()
			for _, want := range []string{filepath.Join(dir, catalogFile), fmt.Sprintf("byte offset %d", offset), c.reason} {
				if !strings.Contains(msg, want) {
					t.Errorf("refusal %q does not say %q", msg, want)
				}
			}
			sameTree(t, before, treeOf(t, dir))
		})
	}
}

// The acceptance case through the binary: one byte of the catalog changed,
// `sluice serve` exits 1 saying where and why, and what the operator can
// do; `sluice serve --recover-catalog` then serves all three topics with
// every acknowledged record, and keeps the damaged file.
func TestCatalogBitFlipThroughTheBinary(t *testing.T) {
	dir := copyTree(t, seededDataDir(t))
	name := filepath.Join(dir, catalogFile)
	b, _ := os.ReadFile(name)
	target := frameOfTopic(t, b, "shipments")
	b[target+12+10] ^= 0x01
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
	before := treeOf(t, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, brokertest.Binary(t), "serve", "--listen", "127.0.0.1:0", "--data-dir", dir).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("sluice serve on a damaged catalog: %v, want exit code 1\n%s", err, out)
	}
	for _, want := range []string{name, fmt.Sprintf("byte offset %d", target), "record CRC mismatch", "nothing on disk was changed", "--recover-catalog"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
	sameTree(t, before, treeOf(t, dir))

	p := brokertest.StartProcess(t, dir, "--recover-catalog")
	for _, topic := range catalogTopics {
		recs := consumeN(t, p.Addr, topic, 100)
		seen := map[int]bool{}
		for _, r := range recs {
			seen[atoi(t, r.Value)] = true
		}
		if len(seen) != 100 {
			t.Fatalf("%s: %d distinct values after recovery, want 100", topic, len(seen))
		}
	}
	if !strings.Contains(p.Log.String(), "registered a topic found on disk") {
		t.Fatalf("recovery did not say it registered shipments again:\n%s", p.Log.String())
	}
	saved, _ := filepath.Glob(name + ".damaged-*")
	if len(saved) != 1 {
		t.Fatalf("damaged catalog copies: %v", saved)
	}
	if data, _ := os.ReadFile(saved[0]); !bytes.Equal(data, b) {
		t.Fatal("the saved copy differs from the damaged catalog")
	}
}

// A topic deleted and created again under the same name never sees the old
// data; entries of the data dir the catalog does not name are left in
// place, logged once, and a topic whose directory one of them would take
// is refused.
func TestDeletionOnlyByExplicitIntent(t *testing.T) {
	dataDir := t.TempDir()
	stray := filepath.Join(dataDir, "stray-0")
	if err := os.MkdirAll(stray, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(stray, "00000000000000000000.log"), []byte("someone's data"), 0o644)
	os.WriteFile(filepath.Join(dataDir, "notes.txt"), []byte("operator notes"), 0o644)
	strayBefore := treeOf(t, stray)

	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) { c.DataDir = dataDir }))
	for _, entry := range []string{"stray-0", "notes.txt"} {
		if n := strings.Count(b.Log.String(), "dir="+entry); n != 1 {
			t.Errorf("unknown entry %s logged %d times, want once:\n%s", entry, n, b.Log.String())
		}
	}
	sameTree(t, strayBefore, treeOf(t, stray))
	adm := newAdmin(t, b.Addr())
	ctx := testCtx(t, 30*time.Second)
	resp, _ := adm.CreateTopic(ctx, 1, 1, nil, "stray")
	if !errors.Is(resp.Err, kerr.TopicAlreadyExists) || !strings.Contains(resp.ErrMessage, "stray-0") {
		t.Fatalf("create over an unknown directory: %v %q, want TOPIC_ALREADY_EXISTS naming stray-0", resp.Err, resp.ErrMessage)
	}

	topic := topicName(t, "reborn")
	createTopic(t, adm, topic, 2, nil)
	cl := newClient(t, b.Addr(), kgo.DefaultProduceTopic(topic))
	var recs []*kgo.Record
	for i := range 50 {
		recs = append(recs, &kgo.Record{Value: val(i)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if dr, err := adm.DeleteTopics(ctx, topic); err != nil || dr[topic].Err != nil {
		t.Fatalf("delete: %v %v", err, dr[topic].Err)
	}
	if left, _ := filepath.Glob(filepath.Join(dataDir, topic+"*")); len(left) != 0 {
		t.Fatalf("deleted topic's directories still there: %v", left)
	}
	createTopic(t, adm, topic, 2, nil)
	cl = newClient(t, b.Addr(), kgo.DefaultProduceTopic(topic)) // the old one remembers the old topic id
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("new")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 1 {
		t.Fatalf("re-created topic holds %d records, want the 1 new one", total)
	}
	got := consumeN(t, b.Addr(), topic, 1)
	if string(got[0].Value) != "new" {
		t.Fatalf("re-created topic serves %q", got[0].Value)
	}
}

// A second broker started on a data dir another one has open refuses to
// start, naming the dir, instead of writing the same logs and catalog at
// once; once the first stops, it starts.
func TestDataDirServesOneBrokerAtATime(t *testing.T) {
	b := brokertest.Start(t)
	cfg := b.Cfg
	cfg.Logger = nil
	if second, err := broker.Start(cfg); err == nil {
		second.Close()
		t.Fatal("a second broker started on a data dir in use")
	} else if !strings.Contains(err.Error(), "in use by another running broker") || !strings.Contains(err.Error(), cfg.DataDir) {
		t.Fatalf("second broker: %v", err)
	}
	b.Close()
	brokertest.StartConfig(t, cfg)
}
