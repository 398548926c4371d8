package brokertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// builds caches the binaries built in this test process, by package.
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
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if p, ok := builds.paths[pkg]; ok {
		return p
	}
	if err, ok := builds.errs[pkg]; ok {
		t.Fatal(err)
	}
	path, err := build(pkg)
	if err != nil {
		if builds.errs == nil {
			builds.errs = map[string]error{}
		}
		builds.errs[pkg] = err
		t.Fatal(err)
	}
	if builds.paths == nil {
		builds.paths = map[string]string{}
	}
	builds.paths[pkg] = path
	return path
}

func build(pkg string) (string, error) {
	name := filepath.Base(strings.TrimSuffix(pkg, "/"))
	dir, err := os.MkdirTemp("", "sluice-"+name+"-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "build", "-race", "-o", path, pkg)
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
