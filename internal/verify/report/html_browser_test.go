package report_test

import (
	"os"
	"path/filepath"
	"testing"

	"sluice/internal/verify/check"
	"sluice/internal/verify/history"
	"sluice/internal/verify/report"
	"sluice/internal/verify/report/reporttest"
	"sluice/internal/verify/timeline"
)

// The page of a real run's history (testdata/acks-all-run: the
// idempotent workload with a producer without idempotence, under a
// dropped acknowledgement, a broker pause, a consumer kill and a
// rebalance; it stored one record twice) opens in Chromium without an
// error, and the browser draws its timeline: every series with the
// points the history gives, every fault, every finding's operations.
func TestHTMLOfRealRunInChromium(t *testing.T) {
	files, err := filepath.Glob("testdata/acks-all-run/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("fixture: %v %v", files, err)
	}
	ops, err := history.ReadFiles(files...)
	if err != nil {
		t.Fatal(err)
	}
	r := check.Check(ops)
	if r.Count(check.Duplicate) == 0 {
		t.Fatal("the fixture should show a duplicate")
	}
	tl := timeline.Build(ops, r, r.Stats.Start)
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	err = report.WriteHTML(f, report.Page{Title: "fixture", Sections: []report.Section{{
		Title: "idempotent", Guarantees: []check.Guarantee{check.Idempotent}, Result: r, Timeline: tl}}})
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
	if len(shown.Timelines) != 1 {
		t.Fatalf("%d timelines, want 1", len(shown.Timelines))
	}
	got := shown.Timelines[0]
	reporttest.WantDrawn(t, got, tl)
}
