package runner

import (
	"testing"

	"sluice/internal/verify/report/reporttest"
)

// wantPageDrawn opens the run's HTML report in headless Chromium: no
// console error, no link leading nowhere, and each workload's timeline
// drawn whole.
func wantPageDrawn(t *testing.T, res *Result) {
	t.Helper()
	drawn := reporttest.Show(t, res.Page(0))
	if len(drawn) != len(res.Workloads) {
		t.Fatalf("%d timelines for %d workloads", len(drawn), len(res.Workloads))
	}
	for i, w := range res.Workloads {
		reporttest.WantDrawn(t, drawn[i], w.Timeline)
	}
}
