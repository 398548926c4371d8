package vfs

import (
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// MemFS is an in-memory FS that can simulate power loss. For every file it
// keeps the current bytes and the bytes as of the last Sync; and besides the
// current namespace it keeps a durable namespace that only SyncDir of the
// parent directory updates. CrashClone returns what survives a crash.
//
// Directories are durable as soon as MkdirAll returns: the storage layer
// creates its directories once and the model stays simple.
//
// MemFS is safe for concurrent use.
type MemFS struct {
	mu      sync.Mutex
	files   map[string]*memNode // current namespace
	durable map[string]*memNode // namespace as of the last SyncDir of each parent
	dirs    map[string]bool
}

// memNode is a file's contents, shared by every handle and name that refer
// to it (a removed file stays readable through open handles, as on POSIX).
type memNode struct {
	mu     sync.RWMutex
	data   []byte
	synced []byte
	// rewritten reports that bytes below len(synced) changed since the
	// last Sync, from rewrittenFrom on: Sync copies from there rather than
	// only extending synced. (Segments overwrite their preallocated zeros,
	// so this is every Sync of a busy segment.)
	rewritten     bool
	rewrittenFrom int
}

// NewMem returns an empty MemFS with only the root directory.
func NewMem() *MemFS {
	return &MemFS{
		files:   map[string]*memNode{},
		durable: map[string]*memNode{},
		dirs:    map[string]bool{"/": true, ".": true},
	}
}

func clean(name string) string { return filepath.Clean(name) }

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Create creates or truncates name. A new name is not durable until
// SyncDir of its directory; truncating an existing file is a content
// change, durable at the file's next Sync.
func (m *MemFS) Create(name string) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[filepath.Dir(name)] {
		return nil, pathErr("create", name, fs.ErrNotExist)
	}
	if m.dirs[name] {
		return nil, pathErr("create", name, fmt.Errorf("is a directory"))
	}
	n := m.files[name]
	if n == nil {
		n = &memNode{}
		m.files[name] = n
	} else {
		n.mu.Lock()
		n.data = nil
		n.markRewrittenLocked(0)
		n.mu.Unlock()
	}
	return &memFile{name: name, node: n}, nil
}

// Open opens an existing file.
func (m *MemFS) Open(name string) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.files[name]
	if n == nil {
		return nil, pathErr("open", name, fs.ErrNotExist)
	}
	return &memFile{name: name, node: n}, nil
}

// Remove removes a file or an empty directory.
func (m *MemFS) Remove(name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files[name] != nil {
		delete(m.files, name)
		return nil
	}
	if m.dirs[name] {
		if len(m.entriesLocked(name)) > 0 {
			return pathErr("remove", name, fmt.Errorf("directory not empty"))
		}
		delete(m.dirs, name)
		return nil
	}
	return pathErr("remove", name, fs.ErrNotExist)
}

// Rename moves a file, replacing newname if it exists, or a directory to a
// name not in use. Like MkdirAll, a directory rename is durable at once.
func (m *MemFS) Rename(oldname, newname string) error {
	oldname, newname = clean(oldname), clean(newname)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[oldname] {
		return m.renameDirLocked(oldname, newname)
	}
	n := m.files[oldname]
	if n == nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrNotExist}
	}
	if !m.dirs[filepath.Dir(newname)] || m.dirs[newname] {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrInvalid}
	}
	delete(m.files, oldname)
	m.files[newname] = n
	return nil
}

// renameDirLocked moves a directory with everything below it, in the
// current and the durable namespace. Requires m.mu.
func (m *MemFS) renameDirLocked(oldname, newname string) error {
	if !m.dirs[filepath.Dir(newname)] || m.dirs[newname] || m.files[newname] != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrInvalid}
	}
	move := func(name string) (string, bool) {
		if name == oldname {
			return newname, true
		}
		if rest, ok := strings.CutPrefix(name, oldname+string(filepath.Separator)); ok {
			return filepath.Join(newname, rest), true
		}
		return "", false
	}
	for _, ns := range []map[string]*memNode{m.files, m.durable} {
		moved := map[string]*memNode{}
		for name, n := range ns {
			if to, ok := move(name); ok {
				delete(ns, name)
				moved[to] = n
			}
		}
		maps.Copy(ns, moved)
	}
	var dirs []string
	for d := range m.dirs {
		if to, ok := move(d); ok {
			delete(m.dirs, d)
			dirs = append(dirs, to)
		}
	}
	for _, d := range dirs {
		m.dirs[d] = true
	}
	return nil
}

// MkdirAll creates dir and its parents.
func (m *MemFS) MkdirAll(dir string) error {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := dir; !m.dirs[d]; d = filepath.Dir(d) {
		if m.files[d] != nil {
			return pathErr("mkdir", d, fmt.Errorf("not a directory"))
		}
		m.dirs[d] = true
	}
	return nil
}

// entriesLocked lists the base names of the entries of dir. Requires m.mu.
func (m *MemFS) entriesLocked(dir string) []string {
	var names []string
	for name := range m.files {
		if filepath.Dir(name) == dir {
			names = append(names, filepath.Base(name))
		}
	}
	for d := range m.dirs {
		if d != dir && filepath.Dir(d) == dir {
			names = append(names, filepath.Base(d))
		}
	}
	sort.Strings(names)
	return names
}

// ReadDir lists the names of the entries of dir, sorted.
func (m *MemFS) ReadDir(dir string) ([]string, error) {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return nil, pathErr("readdir", dir, fs.ErrNotExist)
	}
	return m.entriesLocked(dir), nil
}

// Stat reports the size of a file, or isDir for a directory.
func (m *MemFS) Stat(name string) (int64, bool, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[name] {
		return 0, true, nil
	}
	n := m.files[name]
	if n == nil {
		return 0, false, pathErr("stat", name, fs.ErrNotExist)
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return int64(len(n.data)), false, nil
}

// SyncDir makes the current entries of dir the durable ones.
func (m *MemFS) SyncDir(dir string) error {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return pathErr("syncdir", dir, fs.ErrNotExist)
	}
	for name := range m.durable {
		if filepath.Dir(name) == dir {
			delete(m.durable, name)
		}
	}
	for name, n := range m.files {
		if filepath.Dir(name) == dir {
			m.durable[name] = n
		}
	}
	return nil
}

// CrashClone returns a MemFS holding only what would survive power loss
// now: the durable namespace, each file with its last synced bytes. The
// receiver is left untouched and usable.
func (m *MemFS) CrashClone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMem()
	for d := range m.dirs {
		c.dirs[d] = true
	}
	clones := map[*memNode]*memNode{} // hard-link-like aliases stay aliases
	for name, n := range m.durable {
		cn := clones[n]
		if cn == nil {
			n.mu.RLock()
			cn = &memNode{data: clonePrefix(n.synced), synced: clonePrefix(n.synced)}
			n.mu.RUnlock()
			clones[n] = cn
		}
		c.files[name] = cn
		c.durable[name] = cn
	}
	return c
}

// Files lists every file path of the current namespace, sorted; for tests.
func (m *MemFS) Files() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.files))
	for name := range m.files {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func clonePrefix(b []byte) []byte { return append([]byte(nil), b...) }

// memFile is an open handle on a memNode.
type memFile struct {
	name string
	node *memNode

	mu     sync.Mutex
	closed bool
}

func (f *memFile) checkOpen(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return pathErr(op, f.name, fs.ErrClosed)
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.checkOpen("read"); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("read", f.name, fs.ErrInvalid)
	}
	n := f.node
	n.mu.RLock()
	defer n.mu.RUnlock()
	if off >= int64(len(n.data)) {
		return 0, io.EOF
	}
	c := copy(p, n.data[off:])
	if c < len(p) {
		return c, io.EOF
	}
	return c, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.checkOpen("write"); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("write", f.name, fs.ErrInvalid)
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	n.writeAtLocked(p, off)
	return len(p), nil
}

func (f *memFile) Write(p []byte) (int, error) {
	if err := f.checkOpen("write"); err != nil {
		return 0, err
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	n.writeAtLocked(p, int64(len(n.data)))
	return len(p), nil
}

// writeAtLocked requires n.mu.
func (n *memNode) writeAtLocked(p []byte, off int64) {
	if end := off + int64(len(p)); end > int64(len(n.data)) {
		n.data = append(n.data, make([]byte, end-int64(len(n.data)))...)
	}
	copy(n.data[off:], p)
	if off < int64(len(n.synced)) {
		n.markRewrittenLocked(int(off))
	}
}

// markRewrittenLocked notes that bytes from off on differ from synced.
// Requires n.mu.
func (n *memNode) markRewrittenLocked(off int) {
	if !n.rewritten || off < n.rewrittenFrom {
		n.rewrittenFrom = off
	}
	n.rewritten = true
}

func (f *memFile) Truncate(size int64) error {
	if err := f.checkOpen("truncate"); err != nil {
		return err
	}
	if size < 0 {
		return pathErr("truncate", f.name, fs.ErrInvalid)
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	if size <= int64(len(n.data)) {
		n.data = n.data[:size:size] // later appends must not scribble on shared bytes
	} else {
		n.data = append(n.data, make([]byte, size-int64(len(n.data)))...)
	}
	if size < int64(len(n.synced)) {
		n.markRewrittenLocked(int(size))
	}
	return nil
}

func (f *memFile) Size() (int64, error) {
	if err := f.checkOpen("stat"); err != nil {
		return 0, err
	}
	f.node.mu.RLock()
	defer f.node.mu.RUnlock()
	return int64(len(f.node.data)), nil
}

// Sync snapshots the contents as the durable ones. Appends since the last
// Sync only extend the snapshot, so syncing a growing segment is cheap.
func (f *memFile) Sync() error {
	if err := f.checkOpen("sync"); err != nil {
		return err
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	from := len(n.synced)
	if n.rewritten {
		from = n.rewrittenFrom
		n.rewritten = false
	}
	from = min(from, len(n.data))
	// synced is this node's own copy (CrashClone copies it), so it can be
	// cut and extended in place.
	n.synced = append(n.synced[:from], n.data[from:]...)
	return nil
}

func (f *memFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return pathErr("close", f.name, fs.ErrClosed)
	}
	f.closed = true
	return nil
}
