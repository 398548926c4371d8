//go:build !unix

package topics

// LockDataDir does nothing where flock is not available.
func LockDataDir(dataDir string) (release func() error, err error) {
	return func() error { return nil }, nil
}
