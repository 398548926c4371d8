package headless

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// open writes html to a file and opens it, evaluating exprs.
func open(t *testing.T, html string, exprs ...string) (*Page, error) {
	t.Helper()
	chromium := Chromium(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "page.html")
	if err := os.WriteFile(path, []byte("<!DOCTYPE html><title>t</title>"+html), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return Open(ctx, chromium, filepath.Join(dir, "profile"), "file://"+path, exprs...)
}

func mustOpen(t *testing.T, html string, exprs ...string) *Page {
	t.Helper()
	p, err := open(t, html, exprs...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A clean page reports no error, and an expression sees its DOM as the
// browser built it.
func TestCleanPage(t *testing.T) {
	p := mustOpen(t, `<svg><path id="p" d="M0 0 L30 40"/></svg>`,
		`document.getElementById("p").getTotalLength()`, `document.title`)
	if len(p.Errors) != 0 {
		t.Fatalf("errors %q", p.Errors)
	}
	var length float64
	var title string
	if err := json.Unmarshal(p.Values[0], &length); err != nil || length != 50 {
		t.Fatalf("path length %s (%v), want 50", p.Values[0], err)
	}
	if err := json.Unmarshal(p.Values[1], &title); err != nil || title != "t" {
		t.Fatalf("title %s", p.Values[1])
	}
}

// Each kind of error a page can make is reported: this is what makes a
// test of "no errors" able to fail.
func TestErrorsAreReported(t *testing.T) {
	for name, tt := range map[string]struct{ html, want string }{
		"console.error": {`<script>console.log("fine"); console.error("boom", 7)</script>`, "console.error: boom 7"},
		"exception":     {`<script>null.x</script>`, "uncaught: TypeError: Cannot read properties of null"},
		"missing image": {`<img src="missing.png">`, "missing.png"},
	} {
		t.Run(name, func(t *testing.T) {
			p := mustOpen(t, tt.html)
			if len(p.Errors) != 1 || !strings.Contains(p.Errors[0], tt.want) {
				t.Fatalf("errors %q, want one with %q", p.Errors, tt.want)
			}
		})
	}
}

// An expression that throws is an error of the test, not a value.
func TestEvaluateError(t *testing.T) {
	if _, err := open(t, "", "nosuch.thing"); err == nil || !strings.Contains(err.Error(), "nosuch is not defined") {
		t.Fatalf("err %v", err)
	}
}
