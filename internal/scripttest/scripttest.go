// Package scripttest runs scenario scripts with golden output, the form
// the pure state machines (producer state, the transaction coordinator)
// and partition bookkeeping are tested in: one command a line, each
// followed by the lines it prints, prefixed "-> ". The runner executes
// the commands and compares their output with those lines; with -update
// it rewrites the files instead. Blank lines and "#" comments are kept.
package scripttest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the scenario scripts with the actual output")

// Runner executes one command; where is "file:line" for messages.
type Runner func(where, line string) []string

// RunDir runs every dir/*.txt as a subtest, each with a fresh runner from
// newRunner.
func RunDir(t *testing.T, dir string, newRunner func(t *testing.T) Runner) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in %s: %v", dir, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			Run(t, file, newRunner(t))
		})
	}
}

// Run runs one script.
func Run(t *testing.T, file string, run Runner) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var out bytes.Buffer
	for i := 0; i < len(lines); {
		line := lines[i]
		i++
		if isExpectation(line) {
			t.Errorf("%s:%d: expectation without a command", file, i)
			continue // -update drops it
		}
		out.WriteString(line + "\n")
		if trimmed := strings.TrimSpace(line); trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		want := []string{}
		for i < len(lines) && isExpectation(lines[i]) {
			want = append(want, strings.TrimSpace(strings.TrimPrefix(lines[i], "->")))
			i++
		}
		where := fmt.Sprintf("%s:%d", file, i-len(want))
		got := run(where, line)
		for _, g := range got {
			out.WriteString("-> " + g + "\n")
		}
		if !*update && strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: %s\n got: %q\nwant: %q", where, line, got, want)
		}
	}
	if *update {
		if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func isExpectation(line string) bool { return strings.HasPrefix(line, "->") }
