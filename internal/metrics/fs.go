package metrics

import (
	"time"

	"sluice/internal/vfs"
)

// FS wraps a file system so that every fsync (File.Sync and SyncDir) is
// timed into sluice_fsync_duration_seconds and a slow one is logged. It is
// the one hook for fsyncs: whatever storage syncs, it syncs through the FS.
func (m *Metrics) FS(inner vfs.FS) vfs.FS { return timedFS{FS: inner, m: m} }

type timedFS struct {
	vfs.FS
	m *Metrics
}

func (t timedFS) Create(name string) (vfs.File, error) { return t.wrap(name)(t.FS.Create(name)) }
func (t timedFS) Open(name string) (vfs.File, error)   { return t.wrap(name)(t.FS.Open(name)) }

func (t timedFS) wrap(name string) func(vfs.File, error) (vfs.File, error) {
	return func(f vfs.File, err error) (vfs.File, error) {
		if err != nil {
			return nil, err
		}
		return timedFile{File: f, name: name, m: t.m}, nil
	}
}

func (t timedFS) SyncDir(dir string) error {
	start := time.Now()
	err := t.FS.SyncDir(dir)
	t.m.observeSync(dir, time.Since(start))
	return err
}

type timedFile struct {
	vfs.File
	name string
	m    *Metrics
}

func (f timedFile) Sync() error {
	start := time.Now()
	err := f.File.Sync()
	f.m.observeSync(f.name, time.Since(start))
	return err
}
