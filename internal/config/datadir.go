package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// CheckDataDir says whether the broker could use its data directory,
// without creating or changing anything: the directory exists and is
// writable, or the nearest part of its path that exists is a writable
// directory (the broker creates the rest). Whether its contents recover is
// for the broker's start to find out.
func (c *Config) CheckDataDir() error {
	v := c.values["log.dirs"]
	bad := func(format string, args ...any) error {
		return &Error{Name: v.Setting.Name, Value: v.Value, Source: v.Source, Why: fmt.Sprintf(format, args...)}
	}
	dir := filepath.Clean(v.Value)
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return bad("not a directory")
		}
		if unix.Access(dir, unix.W_OK|unix.X_OK) != nil {
			return bad("not writable")
		}
		return nil
	}
	if !missing(err) {
		return bad("%v", err)
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil && missing(err) && filepath.Dir(p) == p {
			return bad("%v", err) // not even the root or working directory is there
		}
		switch {
		case err == nil && !fi.IsDir():
			return bad("cannot be created: %s is not a directory", p)
		case err == nil && unix.Access(p, unix.W_OK|unix.X_OK) != nil:
			return bad("cannot be created: %s is not writable", p)
		case err == nil:
			return nil
		case !missing(err):
			return bad("%v", err)
		}
	}
}

// missing: the path does not exist, or a part of it is a file (ENOTDIR),
// so the search goes on with the parent.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
