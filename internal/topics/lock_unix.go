//go:build unix

package topics

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// LockDataDir takes the data dir for this process: it holds the
// directory itself locked (flock), so that a second broker started on it
// by mistake refuses to start instead of writing the same logs and
// catalog at once. Nothing is written for it, so a start that refuses a
// damaged data dir still changes nothing, and the lock ends with the
// process: a crash leaves nothing to clean up. Only for the OS file
// system.
func LockDataDir(dataDir string) (release func() error, err error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Open(dataDir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data dir %s is in use by another running broker (it holds the directory locked)", dataDir)
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dataDir, err)
	}
	return f.Close, nil
}
