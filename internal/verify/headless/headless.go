// Package headless opens a page in headless Chromium for tests and says
// what the browser made of it: every console error, uncaught exception
// and failed load, and the value of expressions evaluated in the page
// once it has loaded.
//
// It speaks the DevTools protocol over --remote-debugging-pipe (JSON
// messages, each ended by a NUL byte, on the child's file descriptors 3
// and 4) rather than reading Chromium's log: the log does not tell a
// console.error from a console.log, nor report a resource that failed to
// load. It waits for the page's load event, never for a time.
package headless

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Chromium returns the path of Debian's chromium. Without it a test is
// skipped on a developer's machine, but fails in CI (CI set), which
// installs it.
func Chromium(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed in CI (.ci/run installs it)")
		}
		t.Skip("chromium is not installed (apt-get install chromium); CI runs this test")
	}
	return p
}

// Page is what the browser saw.
type Page struct {
	// Errors are console.error and console.assert messages, uncaught
	// exceptions and the browser's own error entries (a resource that
	// failed to load, a blocked request), in the order they came.
	Errors []string
	// Values are the JSON values of the expressions given to Open.
	Values []json.RawMessage
}

// Open starts chromium (with a fresh profile in profileDir), loads url,
// waits for its load event, evaluates each expression in the page and
// closes the browser.
func Open(ctx context.Context, chromium, profileDir, url string, exprs ...string) (*Page, error) {
	toChild, ourW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	ourR, fromChild, err := os.Pipe()
	if err != nil {
		toChild.Close()
		ourW.Close()
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
		"--remote-debugging-pipe", "--user-data-dir="+profileDir, "about:blank")
	cmd.ExtraFiles = []*os.File{toChild, fromChild} // fds 3 and 4
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	toChild.Close()
	fromChild.Close()
	c := newConn(ourW, ourR)
	page, err := c.open(ctx, url, exprs)
	c.callNoWait("", "Browser.close", nil)
	ourW.Close()
	go func() { // what the browser says while closing must not block it
		for range c.in {
		}
	}()
	werr := cmd.Wait()
	ourR.Close()
	if err != nil {
		return nil, fmt.Errorf("%w (chromium: %v; its stderr:\n%s)", err, werr, stderr.Bytes())
	}
	return page, nil
}

// open drives one tab: attach, enable the domains that report errors,
// navigate, wait for load, evaluate.
func (c *conn) open(ctx context.Context, url string, exprs []string) (*Page, error) {
	var target struct{ TargetID string }
	if err := c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	var attached struct{ SessionID string }
	if err := c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	s := attached.SessionID
	c.session = s
	for _, domain := range []string{"Page", "Runtime", "Log"} {
		if err := c.call(ctx, s, domain+".enable", nil, nil); err != nil {
			return nil, err
		}
	}
	var nav struct{ ErrorText string }
	if err := c.call(ctx, s, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return nil, err
	}
	if nav.ErrorText != "" {
		return nil, fmt.Errorf("navigate to %s: %s", url, nav.ErrorText)
	}
	if err := c.waitEvent(ctx, s, "Page.loadEventFired"); err != nil {
		return nil, err
	}
	p := &Page{}
	for _, expr := range exprs {
		v, err := c.evaluate(ctx, s, expr)
		if err != nil {
			return nil, err
		}
		p.Values = append(p.Values, v)
	}
	p.Errors = c.errors
	return p, nil
}

func (c *conn) evaluate(ctx context.Context, session, expr string) (json.RawMessage, error) {
	var res struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *exceptionDetails
	}
	if err := c.call(ctx, session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res); err != nil {
		return nil, err
	}
	if res.ExceptionDetails != nil {
		return nil, fmt.Errorf("evaluate %q: %s", expr, res.ExceptionDetails.text())
	}
	return res.Result.Value, nil
}
