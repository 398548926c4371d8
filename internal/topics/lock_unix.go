//go:build unix

package topics

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockFile, in the catalog's directory, is held locked (flock) by the
// broker that has the data dir open.
const lockFile = "broker.lock"

// LockDataDir takes the data dir for this process, so that a second
// broker started on it by mistake refuses to start instead of writing
// the same logs and catalog at once; the lock ends with the process, so a
// crash leaves nothing to clean up. Only for the OS file system.
func LockDataDir(dataDir string) (release func() error, err error) {
	dir := filepath.Join(dataDir, catalogDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data dir %s is in use by another running broker (%s is locked)", dataDir, f.Name())
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dataDir, err)
	}
	return f.Close, nil
}
