// Package reporttest opens an HTML report in headless Chromium, for the
// tests of the packages that write one, and says what the browser drew.
package reporttest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sluice/internal/verify/check"
	"sluice/internal/verify/headless"
	"sluice/internal/verify/report"
	"sluice/internal/verify/timeline"
)

// shown is what the browser made of a report.
type shown struct {
	// Errors are the console errors, uncaught exceptions and failed loads.
	Errors    []string
	Timelines []Timeline
	// BrokenLinks counts the links within the page whose target is not
	// in it.
	BrokenLinks int
}

// Timeline is one timeline's SVG as laid out: its width on the page, and
// per element what the browser computed from it.
type Timeline struct {
	ID      string
	Width   float64
	Seconds int
	Series  []Series
	// Faults counts the fault lines, Dots the circles of the findings'
	// marks.
	Faults, Dots int
}

// Series is one plotted line: its points, and its length as the browser
// measures the path (0 for a path it could not read).
type Series struct {
	Name   string
	Points int
	Length float64
}

const drawn = `[...document.querySelectorAll("svg.timeline")].map(s => ({
	ID: s.id,
	Width: s.getBoundingClientRect().width,
	Seconds: +s.dataset.seconds,
	Series: [...s.querySelectorAll("path.series")].map(p => ({Name: p.dataset.series, Points: +p.dataset.points, Length: p.getTotalLength()})),
	Faults: s.querySelectorAll("line.fault").length,
	Dots: s.querySelectorAll("g.mark circle").length,
}))`

const brokenLinks = `[...document.querySelectorAll('a[href^="#"]')].filter(a => !document.getElementById(a.getAttribute("href").slice(1))).length`

// Show writes p to a file and opens it in headless Chromium (skipping
// the test where chromium is missing, outside CI). It fails t on any
// console error and any link within the page that leads nowhere, and
// returns what the browser drew of each timeline.
func Show(t *testing.T, p report.Page) []Timeline {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	err = report.WriteHTML(f, p)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, path)
	if len(s.Errors) > 0 {
		t.Errorf("console errors: %q", s.Errors)
	}
	if s.BrokenLinks != 0 {
		t.Errorf("%d links lead nowhere", s.BrokenLinks)
	}
	return s.Timelines
}

func open(t *testing.T, path string) shown {
	t.Helper()
	chromium := headless.Chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := headless.Open(ctx, chromium, t.TempDir(), "file://"+path, drawn, brokenLinks)
	if err != nil {
		t.Fatal(err)
	}
	s := shown{Errors: p.Errors}
	if err := json.Unmarshal(p.Values[0], &s.Timelines); err != nil {
		t.Fatalf("timelines %s: %v", p.Values[0], err)
	}
	if err := json.Unmarshal(p.Values[1], &s.BrokenLinks); err != nil {
		t.Fatalf("broken links %s: %v", p.Values[1], err)
	}
	return s
}

// WantDrawn fails t unless the browser drew all of tl: the SVG has a
// width on the page; each rate series a point per second and each
// latency series one per second with a measured send, as a line of some
// length wherever there are two; a line per fault; a dot per operation
// of each finding drawn (report.MaxMarksPerAnomaly per anomaly).
func WantDrawn(t *testing.T, got Timeline, tl timeline.Timeline) {
	t.Helper()
	measured := 0
	for _, s := range tl.Seconds {
		if s.Measured > 0 {
			measured++
		}
	}
	n := len(tl.Seconds)
	want := []int{n, n, n, n, measured, measured}
	if got.Width < 100 || got.Seconds != n || len(got.Series) != len(want) {
		t.Fatalf("timeline %s drawn %.0f px wide, %d seconds, %d series; want %d seconds and %d series", got.ID, got.Width, got.Seconds, len(got.Series), n, len(want))
	}
	for i, s := range got.Series {
		if s.Points != want[i] || (s.Points >= 2) != (s.Length > 0) {
			t.Errorf("series %q: %d points drawn %.1f long; want %d points", s.Name, s.Points, s.Length, want[i])
		}
	}
	if got.Faults != len(tl.Faults) {
		t.Errorf("%d fault lines, want %d", got.Faults, len(tl.Faults))
	}
	dots, perAnomaly := 0, map[check.Anomaly]int{}
	for _, f := range tl.Findings {
		if perAnomaly[f.Anomaly] < report.MaxMarksPerAnomaly {
			perAnomaly[f.Anomaly]++
			dots += len(f.At)
		}
	}
	if got.Dots != dots {
		t.Errorf("%d dots for the findings, want %d", got.Dots, dots)
	}
}
