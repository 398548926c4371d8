package brokertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// builds caches the binaries built in this test process, by package and
// by whether they have the race detector.
var builds struct {
	mu    sync.Mutex
	paths map[string]string
	errs  map[string]error
}

// BuildPackage builds a main package of this module (a path from the
// module root, such as "./cmd/sluice" or "./tests/consumer") with the race
// detector, once per test process, and returns the binary's path. Tests
// run it as a child process they can kill.
func BuildPackage(t testing.TB, pkg string) string {
	t.Helper()
	return buildOnce(t, pkg, true)
}

// BuildPackageNoRace is BuildPackage without the race detector, for a
// test that measures the child's memory: the race detector's shadow
// memory and per-goroutine state would multiply what it measures.
func BuildPackageNoRace(t testing.TB, pkg string) string {
	t.Helper()
	return buildOnce(t, pkg, false)
}

func buildOnce(t testing.TB, pkg string, race bool) string {
	t.Helper()
	key := pkg
	if !race {
		key += " (no race)"
	}
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if p, ok := builds.paths[key]; ok {
		return p
	}
	if err, ok := builds.errs[key]; ok {
		t.Fatal(err)
	}
	path, err := build(pkg, race)
	if err != nil {
		if builds.errs == nil {
			builds.errs = map[string]error{}
		}
		builds.errs[key] = err
		t.Fatal(err)
	}
	if builds.paths == nil {
		builds.paths = map[string]string{}
	}
	builds.paths[key] = path
	return path
}

func build(pkg string, race bool) (string, error) {
	name := filepath.Base(strings.TrimSuffix(pkg, "/"))
	dir, err := os.MkdirTemp("", "sluice-"+name+"-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	_, file, _, _ := runtime.Caller(0)
	args := []string{"build", "-o", path, pkg}
	if race {
		args = slices.Insert(args, 1, "-race")
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..") // the module root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return path, nil
}

// Binary builds ./cmd/sluice once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	return BuildPackage(t, "./cmd/sluice")
}
