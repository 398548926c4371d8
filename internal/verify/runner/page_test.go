package runner

import (
	"os"
	"path/filepath"
	"testing"

	"sluice/internal/verify/report"
	"sluice/internal/verify/report/reporttest"
)

// wantPageDrawn writes the run's HTML report and opens it in headless
// Chromium: no console error, no link leading nowhere, and each
// workload's timeline drawn whole.
func wantPageDrawn(t *testing.T, res *Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	err = report.WriteHTML(f, res.Page(0))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	shown := reporttest.Open(t, path)
	if len(shown.Errors) > 0 {
		t.Errorf("console errors: %q", shown.Errors)
	}
	if shown.BrokenLinks != 0 {
		t.Errorf("%d links lead nowhere", shown.BrokenLinks)
	}
	if len(shown.Timelines) != len(res.Workloads) {
		t.Fatalf("%d timelines for %d workloads", len(shown.Timelines), len(res.Workloads))
	}
	for i, w := range res.Workloads {
		reporttest.WantDrawn(t, shown.Timelines[i], w.Timeline)
	}
}
