package config

import (
	"os"
	"path/filepath"
	"testing"
)

// The check says what is wrong with the path and changes nothing on disk.
func TestCheckDataDir(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, want string }{
		{root, ""},
		{filepath.Join(root, "new", "deeper"), ""},
		{file, "log.dirs=" + file + " (env SLUICE_LOG_DIRS): not a directory"},
		{filepath.Join(file, "sub", "dir"), "log.dirs=" + filepath.Join(file, "sub", "dir") + " (env SLUICE_LOG_DIRS): cannot be created: " + file + " is not a directory"},
	} {
		c, errs := Load(Inputs{Environ: []string{"SLUICE_LOG_DIRS=" + tc.dir}})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		got := ""
		if err := c.CheckDataDir(); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.dir, got, tc.want)
		}
	}
	names, err := os.ReadDir(root)
	if err != nil || len(names) != 1 {
		t.Fatalf("the check changed %s: %v %v", root, names, err)
	}
}

// Write permission is checked too (root may write anywhere, so the test
// needs another user).
func TestCheckDataDirNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write into any directory")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, want string }{
		{dir, "log.dirs=" + dir + " (env SLUICE_LOG_DIRS): not writable"},
		{filepath.Join(dir, "x"), "log.dirs=" + filepath.Join(dir, "x") + " (env SLUICE_LOG_DIRS): cannot be created: " + dir + " is not writable"},
	} {
		c, _ := Load(Inputs{Environ: []string{"SLUICE_LOG_DIRS=" + tc.dir}})
		if err := c.CheckDataDir(); err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %s", tc.dir, err, tc.want)
		}
	}
}
