package topics

import (
	"context"
	"errors"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"

	"sluice/internal/metadata"
	"sluice/internal/partition"
	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

const dataDir = "/data"

func open(t *testing.T, fsys vfs.FS, logs *strings.Builder) (*Manager, error) {
	t.Helper()
	cfg := Config{DataDir: dataDir, Fsync: partition.FsyncAlways}
	if logs != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	return Open(fsys, cfg)
}

func mustOpen(t *testing.T, fsys vfs.FS) *Manager {
	t.Helper()
	m, err := open(t, fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// produce appends n durable records to partition 0 of topic.
func produce(t *testing.T, m *Manager, topic string, n int) {
	t.Helper()
	p := m.Partition(topic, 0)
	for range n {
		res, err := p.Append(recordbatch.Build(nil, []recordbatch.Record{{Value: []byte("v")}}, 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.WaitDurable(context.Background(), res.NextOffset); err != nil {
			t.Fatal(err)
		}
	}
}

func create(t *testing.T, m *Manager, name string) {
	t.Helper()
	if _, err := m.Create(CreateRequest{Name: name, Partitions: 1, ReplicationFactor: -1}); err != nil {
		t.Fatal(err)
	}
}

func entries(t *testing.T, fsys vfs.FS) []string {
	t.Helper()
	names, err := fsys.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// A crash after the catalog recorded a delete but before the directories
// were marked: the next start marks and removes them, since their
// partition.metadata names the deleted topic's id; the name then starts
// empty.
func TestDeleteInterruptedBeforeTheMarkIsFinishedAtStart(t *testing.T) {
	mem := vfs.NewMem()
	failRename := errors.New("injected rename failure")
	fsys := vfs.NewErrorFS(mem, func(op, name string) error {
		if op == vfs.OpRename && path.Base(name) == "doomed-0" {
			return failRename
		}
		return nil
	})
	m := mustOpen(t, fsys)
	create(t, m, "doomed")
	produce(t, m, "doomed", 5)
	if err := m.Delete("doomed"); !errors.Is(err, failRename) {
		t.Fatalf("delete: %v, want the injected failure", err)
	}
	if !slices.Contains(entries(t, mem), "doomed-0") {
		t.Fatal("directory gone although its rename failed")
	}
	m.Close()

	crashed := mem.CrashClone()
	var logs strings.Builder
	m, err := open(t, crashed, &logs)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := entries(t, crashed); slices.ContainsFunc(got, func(n string) bool { return strings.HasPrefix(n, "doomed") }) {
		t.Fatalf("deleted topic's directory still there after restart: %v", got)
	}
	if !strings.Contains(logs.String(), "removing directory of a deleted topic") {
		t.Fatalf("removal not logged:\n%s", logs.String())
	}
	create(t, m, "doomed")
	if hw := m.Partition("doomed", 0).HighWatermark(); hw != 0 {
		t.Fatalf("re-created topic starts at %d, want 0", hw)
	}
}

// A crash after the mark but before the removal: the marked directory is
// removed at the next start.
func TestMarkedDirectoryIsRemovedAtStart(t *testing.T) {
	mem := vfs.NewMem()
	fsys := vfs.NewErrorFS(mem, func(op, name string) error {
		if op == vfs.OpRemove && strings.Contains(name, "-delete") {
			return errors.New("injected remove failure")
		}
		return nil
	})
	m := mustOpen(t, fsys)
	create(t, m, "gone")
	id := m.Get("gone").ID
	produce(t, m, "gone", 3)
	if err := m.Delete("gone"); err == nil {
		t.Fatal("delete succeeded despite the injected failure")
	}
	marked := deletionDirName("gone-0", id)
	if !slices.Contains(entries(t, mem), marked) {
		t.Fatalf("no %s among %v", marked, entries(t, mem))
	}
	m.Close()
	m = mustOpen(t, mem.CrashClone())
	defer m.Close()
	if got := m.fs.(*vfs.MemFS); slices.Contains(entries(t, got), marked) {
		t.Fatal("marked directory survived a restart")
	}
}

// A directory marked for deletion whose id the catalog does not record as
// deleted, and a partition directory of a live topic's name holding
// another id: the first is kept as unknown; the second stops the start,
// with nothing changed.
func TestDisagreementIsNeverSettledByDeleting(t *testing.T) {
	mem := vfs.NewMem()
	m := mustOpen(t, mem)
	create(t, m, "live")
	produce(t, m, "live", 2)
	m.Close()

	foreign := metadata.TopicID{0xab}
	mem.MkdirAll(path.Join(dataDir, deletionDirName("other-0", foreign)))
	var logs strings.Builder
	m, err := open(t, mem, &logs)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if !slices.Contains(entries(t, mem), deletionDirName("other-0", foreign)) || !strings.Contains(logs.String(), "leaving in place") {
		t.Fatalf("a marked directory of an undeleted id was not kept and logged: %v\n%s", entries(t, mem), logs.String())
	}

	// Make live-0 claim another topic's id.
	if err := writePartitionMeta(mem, path.Join(dataDir, "live-0"), partitionMeta{Topic: "live", TopicID: foreign}); err != nil {
		t.Fatal(err)
	}
	before := mem.Files()
	_, err = open(t, mem, nil)
	if err == nil || !strings.Contains(err.Error(), "live-0 holds topic id") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("open with a foreign partition directory: %v", err)
	}
	if after := mem.Files(); !slices.Equal(before, after) {
		t.Fatalf("a refused start changed files: %v -> %v", before, after)
	}
}

// A data dir written before partition.metadata existed is adopted: the
// file is written for the live topics' directories.
func TestDirectoriesWithoutMetadataAreAdopted(t *testing.T) {
	mem := vfs.NewMem()
	m := mustOpen(t, mem)
	create(t, m, "old")
	produce(t, m, "old", 4)
	id := m.Get("old").ID
	m.Close()
	if err := mem.Remove(path.Join(dataDir, "old-0", partitionMetaFile)); err != nil {
		t.Fatal(err)
	}
	m = mustOpen(t, mem)
	defer m.Close()
	if hw := m.Partition("old", 0).HighWatermark(); hw != 4 {
		t.Fatalf("adopted partition holds %d records, want 4", hw)
	}
	pm, ok, err := readPartitionMeta(mem, path.Join(dataDir, "old-0"))
	if err != nil || !ok || pm.TopicID != id {
		t.Fatalf("partition.metadata after adoption: %+v %v %v", pm, ok, err)
	}
}

func TestPartitionDirNames(t *testing.T) {
	for _, c := range []struct {
		name  string
		topic string
		i     int32
		ok    bool
	}{
		{"a-0", "a", 0, true}, {"a-b-12", "a-b", 12, true}, {"a--1", "a-", 1, true},
		{"a-01", "", 0, false}, {"a-", "", 0, false}, {"-1", "", 0, false}, {"a-99999999999", "", 0, false},
	} {
		topic, i, ok := parsePartitionDir(c.name)
		if ok != c.ok || (ok && (topic != c.topic || i != c.i)) {
			t.Errorf("parsePartitionDir(%q) = %q %d %v", c.name, topic, i, ok)
		}
	}
	id := metadata.TopicID{1, 2, 3}
	got, ok := parseDeletionDir(deletionDirName("a.b-3", id))
	if !ok || got != id {
		t.Fatalf("deletion mark round trip: %v %v", got, ok)
	}
	if _, ok := parseDeletionDir("a-3.nothex-delete"); ok {
		t.Fatal("parsed a mark without an id")
	}
}

// A crash at every file-system step of a delete (power loss: only synced
// bytes and names survive) leaves, after the next start, either the whole
// topic with all its records or no trace of it; a topic created again
// under the name is always empty.
func TestCrashAtEveryStepOfADelete(t *testing.T) {
	var kept, gone bool
	for step := 1; ; step++ {
		mem := vfs.NewMem()
		var crashed *vfs.MemFS
		var mu sync.Mutex
		n, armed := 0, false
		fsys := vfs.NewErrorFS(mem, func(op, name string) error {
			mu.Lock()
			defer mu.Unlock()
			if armed {
				if n++; n == step {
					crashed = mem.CrashClone()
				}
			}
			return nil
		})
		m := mustOpen(t, fsys)
		create(t, m, "t")
		produce(t, m, "t", 3)
		mu.Lock()
		armed = true
		mu.Unlock()
		if err := m.Delete("t"); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		armed = false
		mu.Unlock()
		m.Close()
		if crashed == nil {
			if !kept || !gone {
				t.Fatalf("over %d steps: topic kept at some %v, gone at some %v; want both", step-1, kept, gone)
			}
			return // every step was crashed at
		}
		m = mustOpen(t, crashed)
		if tp := m.Get("t"); tp != nil {
			if hw := tp.Partitions[0].HighWatermark(); hw != 3 {
				t.Fatalf("step %d: topic kept with %d records, want 3", step, hw)
			}
			kept = true
		} else {
			gone = true
			if left := entries(t, crashed); slices.ContainsFunc(left, func(d string) bool { return strings.HasPrefix(d, "t-0") }) {
				t.Fatalf("step %d: deleted topic left %v", step, left)
			}
			create(t, m, "t")
			if hw := m.Partition("t", 0).HighWatermark(); hw != 0 {
				t.Fatalf("step %d: re-created topic holds %d records", step, hw)
			}
		}
		m.Close()
	}
}
