package report_test

import (
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
	drawn := reporttest.Show(t, report.Page{Title: "fixture", Sections: []report.Section{{
		Title: "idempotent", Guarantees: []check.Guarantee{check.Idempotent}, Result: r, Timeline: tl}}})
	if len(drawn) != 1 {
		t.Fatalf("%d timelines, want 1", len(drawn))
	}
	reporttest.WantDrawn(t, drawn[0], tl)
}
