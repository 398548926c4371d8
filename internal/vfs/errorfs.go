package vfs

// ErrorFS wraps an FS and consults inject before every operation; a non-nil
// result is returned instead of calling the inner FS. Tests use it to make
// a write or an fsync fail at a chosen moment.
type ErrorFS struct {
	inner  FS
	inject func(op, name string) error
}

// Operation names passed to the inject function.
const (
	OpCreate   = "create"
	OpOpen     = "open"
	OpWrite    = "write" // Write and WriteAt
	OpSync     = "sync"
	OpSyncDir  = "syncdir"
	OpTruncate = "truncate"
	OpRemove   = "remove"
	OpRename   = "rename" // name is the old name
	OpRead     = "read"
)

// NewErrorFS returns an FS that fails an operation whenever inject returns
// a non-nil error for it. MkdirAll, ReadDir, Stat, Size and Close are never
// failed.
func NewErrorFS(inner FS, inject func(op, name string) error) *ErrorFS {
	return &ErrorFS{inner: inner, inject: inject}
}

func (e *ErrorFS) Create(name string) (File, error) {
	if err := e.inject(OpCreate, name); err != nil {
		return nil, err
	}
	f, err := e.inner.Create(name)
	if err != nil {
		return nil, err
	}
	return &errorFile{File: f, name: name, inject: e.inject}, nil
}

func (e *ErrorFS) Open(name string) (File, error) {
	if err := e.inject(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := e.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return &errorFile{File: f, name: name, inject: e.inject}, nil
}

func (e *ErrorFS) Remove(name string) error {
	if err := e.inject(OpRemove, name); err != nil {
		return err
	}
	return e.inner.Remove(name)
}

func (e *ErrorFS) Rename(oldname, newname string) error {
	if err := e.inject(OpRename, oldname); err != nil {
		return err
	}
	return e.inner.Rename(oldname, newname)
}

func (e *ErrorFS) MkdirAll(dir string) error            { return e.inner.MkdirAll(dir) }
func (e *ErrorFS) ReadDir(dir string) ([]string, error) { return e.inner.ReadDir(dir) }
func (e *ErrorFS) Stat(name string) (int64, bool, error) {
	return e.inner.Stat(name)
}

func (e *ErrorFS) SyncDir(dir string) error {
	if err := e.inject(OpSyncDir, dir); err != nil {
		return err
	}
	return e.inner.SyncDir(dir)
}

type errorFile struct {
	File
	name   string
	inject func(op, name string) error
}

func (f *errorFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.inject(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *errorFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.inject(OpWrite, f.name); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *errorFile) Write(p []byte) (int, error) {
	if err := f.inject(OpWrite, f.name); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *errorFile) Sync() error {
	if err := f.inject(OpSync, f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *errorFile) Truncate(size int64) error {
	if err := f.inject(OpTruncate, f.name); err != nil {
		return err
	}
	return f.File.Truncate(size)
}
