package topics

import (
	"errors"
	"io/fs"
	"path"
)

// A clean shutdown is recorded by a marker file in the catalog directory,
// written after every partition was closed, and so synced, without error,
// and removed once the next start has opened every partition. While it
// exists, recovery knows that nothing was left half-written: a batch that
// does not read is damage, refused, never a torn tail to cut.
const cleanShutdownFile = "clean-shutdown"

func (m *Manager) cleanShutdownPath() string {
	return path.Join(m.cfg.DataDir, catalogDir, cleanShutdownFile)
}

func (m *Manager) cleanShutdownMarked() (bool, error) {
	_, _, err := m.fs.Stat(m.cleanShutdownPath())
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (m *Manager) markCleanShutdown() error {
	f, err := m.fs.Create(m.cleanShutdownPath())
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = m.fs.SyncDir(path.Join(m.cfg.DataDir, catalogDir))
	}
	return err
}

// unmarkCleanShutdown removes the marker before the broker serves: from
// here on a crash may leave torn tails again.
func (m *Manager) unmarkCleanShutdown() error {
	defer func() { m.cleanStart = false }()
	if !m.cleanStart {
		return nil
	}
	if err := m.fs.Remove(m.cleanShutdownPath()); err != nil {
		return err
	}
	return m.fs.SyncDir(path.Join(m.cfg.DataDir, catalogDir))
}
