package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func mustWrite(t *testing.T, f File, s string) {
	t.Helper()
	if _, err := f.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, fsys FS, name string) string {
	t.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return string(buf)
}

func TestMemCrashDropsUnsyncedBytes(t *testing.T) {
	m := NewMem()
	if err := m.MkdirAll("/d"); err != nil {
		t.Fatal(err)
	}
	f, err := m.Create("/d/a")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "hello")
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := m.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, " world")

	c := m.CrashClone()
	if got := readAll(t, c, "/d/a"); got != "hello" {
		t.Fatalf("after crash got %q, want %q", got, "hello")
	}
	if got := readAll(t, m, "/d/a"); got != "hello world" {
		t.Fatalf("original got %q", got)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, m.CrashClone(), "/d/a"); got != "hello world" {
		t.Fatalf("after second sync crash got %q", got)
	}
}

func TestMemCrashDropsUnsyncedCreateAndKeepsUnsyncedRemove(t *testing.T) {
	m := NewMem()
	m.MkdirAll("/d")
	a, _ := m.Create("/d/a")
	mustWrite(t, a, "a")
	a.Sync()
	m.SyncDir("/d")
	b, _ := m.Create("/d/b")
	mustWrite(t, b, "b")
	b.Sync() // contents synced, but the name is not
	if err := m.Remove("/d/a"); err != nil {
		t.Fatal(err)
	}

	c := m.CrashClone()
	names, err := c.ReadDir("/d")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"a"}) {
		t.Fatalf("after crash names = %v, want [a]", names)
	}

	m.SyncDir("/d")
	names, _ = m.CrashClone().ReadDir("/d")
	if !slices.Equal(names, []string{"b"}) {
		t.Fatalf("after SyncDir names = %v, want [b]", names)
	}
}

func TestMemRenameDurableOnSyncDir(t *testing.T) {
	m := NewMem()
	m.MkdirAll("/d")
	f, _ := m.Create("/d/tmp")
	mustWrite(t, f, "x")
	f.Sync()
	m.SyncDir("/d")
	if err := m.Rename("/d/tmp", "/d/final"); err != nil {
		t.Fatal(err)
	}
	if names, _ := m.CrashClone().ReadDir("/d"); !slices.Equal(names, []string{"tmp"}) {
		t.Fatalf("before SyncDir: %v", names)
	}
	m.SyncDir("/d")
	c := m.CrashClone()
	if names, _ := c.ReadDir("/d"); !slices.Equal(names, []string{"final"}) {
		t.Fatalf("after SyncDir: %v", names)
	}
	if got := readAll(t, c, "/d/final"); got != "x" {
		t.Fatalf("got %q", got)
	}
}

func TestMemTruncateAndRewriteSync(t *testing.T) {
	m := NewMem()
	m.MkdirAll("/d")
	f, _ := m.Create("/d/a")
	mustWrite(t, f, "abcdef")
	f.Sync()
	m.SyncDir("/d")
	if err := f.Truncate(3); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "XY")
	if got := readAll(t, m.CrashClone(), "/d/a"); got != "abcdef" {
		t.Fatalf("unsynced truncate survived: %q", got)
	}
	f.Sync()
	if got := readAll(t, m.CrashClone(), "/d/a"); got != "abcXY" {
		t.Fatalf("got %q", got)
	}
	if _, err := f.WriteAt([]byte("Z"), 0); err != nil {
		t.Fatal(err)
	}
	f.Sync()
	if got := readAll(t, m.CrashClone(), "/d/a"); got != "ZbcXY" {
		t.Fatalf("got %q", got)
	}
}

func TestMemStatAndErrors(t *testing.T) {
	m := NewMem()
	if _, _, err := m.Stat("/nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat absent: %v", err)
	}
	if _, err := m.Open("/nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open absent: %v", err)
	}
	if _, err := m.Create("/nodir/a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Create in missing dir: %v", err)
	}
	m.MkdirAll("/a/b")
	if _, isDir, err := m.Stat("/a/b"); err != nil || !isDir {
		t.Fatalf("Stat dir: %v %v", isDir, err)
	}
	f, _ := m.Create("/a/b/f")
	mustWrite(t, f, "1234")
	if size, isDir, err := m.Stat("/a/b/f"); err != nil || isDir || size != 4 {
		t.Fatalf("Stat file: %d %v %v", size, isDir, err)
	}
	if names, _ := m.ReadDir("/a"); !slices.Equal(names, []string{"b"}) {
		t.Fatalf("ReadDir: %v", names)
	}
	f.Close()
	if _, err := f.Write([]byte("x")); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	buf := make([]byte, 8)
	g, _ := m.Open("/a/b/f")
	if n, err := g.ReadAt(buf, 2); n != 2 || err != io.EOF {
		t.Fatalf("short ReadAt = %d, %v", n, err)
	}
}

func TestMemConcurrentReadWrite(t *testing.T) {
	m := NewMem()
	m.MkdirAll("/d")
	f, _ := m.Create("/d/a")
	chunk := bytes.Repeat([]byte{7}, 100)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for range 500 {
			if _, err := f.Write(chunk); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, 100)
		for range 500 {
			size, _ := f.Size()
			if size < 100 {
				continue
			}
			if _, err := f.ReadAt(buf, size-100); err != nil {
				t.Error(err)
				return
			}
			if !bytes.Equal(buf, chunk) {
				t.Error("read torn bytes")
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range 100 {
			f.Sync()
			m.SyncDir("/d")
			m.CrashClone()
		}
	}()
	wg.Wait()
	if size, _ := f.Size(); size != 500*100 {
		t.Fatalf("size %d", size)
	}
}

func TestErrorFSInjects(t *testing.T) {
	m := NewMem()
	m.MkdirAll("/d")
	boom := errors.New("boom")
	var fail string
	e := NewErrorFS(m, func(op, name string) error {
		if op == fail {
			return boom
		}
		return nil
	})
	f, err := e.Create("/d/a")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		op string
		do func() error
	}{
		{OpWrite, func() error { _, err := f.Write([]byte("x")); return err }},
		{OpWrite, func() error { _, err := f.WriteAt([]byte("x"), 0); return err }},
		{OpRead, func() error { _, err := f.ReadAt(make([]byte, 1), 0); return err }},
		{OpSync, f.Sync},
		{OpTruncate, func() error { return f.Truncate(0) }},
		{OpSyncDir, func() error { return e.SyncDir("/d") }},
		{OpRename, func() error { return e.Rename("/d/a", "/d/b") }},
		{OpRemove, func() error { return e.Remove("/d/a") }},
		{OpOpen, func() error { _, err := e.Open("/d/a"); return err }},
		{OpCreate, func() error { _, err := e.Create("/d/c"); return err }},
	} {
		fail = c.op
		if err := c.do(); !errors.Is(err, boom) {
			t.Errorf("%s: got %v, want injected error", c.op, err)
		}
		fail = ""
		if err := c.do(); err != nil {
			t.Errorf("%s without injection: %v", c.op, err)
		}
		if c.op == OpRename {
			e.Rename("/d/b", "/d/a")
		}
		if c.op == OpRemove {
			f, _ = e.Create("/d/a")
		}
	}
}

func TestOSFS(t *testing.T) {
	dir := t.TempDir()
	o := OS()
	sub := filepath.Join(dir, "x", "y")
	if err := o.MkdirAll(sub); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(sub, "f")
	f, err := o.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "abc")
	if _, err := f.WriteAt([]byte("Z"), 0); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "de")
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := o.SyncDir(sub); err != nil {
		t.Fatal(err)
	}
	f.Close()
	g, err := o.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, g, "f")
	if err := g.Truncate(5); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, g, "!")
	g.Close()
	if got := readAll(t, o, name); got != "Zbcde!" {
		t.Fatalf("got %q", got)
	}
	if names, _ := o.ReadDir(sub); !slices.Equal(names, []string{"f"}) {
		t.Fatalf("ReadDir %v", names)
	}
	if err := o.Rename(name, name+"2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := o.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat after rename: %v", err)
	}
	if size, _, err := o.Stat(name + "2"); err != nil || size != 6 {
		t.Fatalf("Stat: %d %v", size, err)
	}
	if err := o.Remove(name + "2"); err != nil {
		t.Fatal(err)
	}
}
