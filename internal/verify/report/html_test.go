package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"sluice/internal/verify/check"
	"sluice/internal/verify/history"
	"sluice/internal/verify/timeline"
)

// pageOf is the page of one history, as `sluice verify check` makes it.
func pageOf(ops []history.Op, guarantees []check.Guarantee, maxPer int) Page {
	r := check.Check(ops)
	return Page{Title: "test", Facts: []string{"one history"}, MaxPerAnomaly: maxPer,
		Sections: []Section{{Title: "h", Guarantees: guarantees, Result: r, Timeline: timeline.Build(ops, r, r.Stats.Start)}}}
}

func render(t *testing.T, p Page) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The page holds what the issue asks of it: a timeline with its series,
// fault lines and findings; a verdict per guarantee with what it counted
// and what broke it; each finding with the ops that prove it.
func TestHTMLShowsTimelineVerdictsAndProof(t *testing.T) {
	s := render(t, pageOf(lossyHistory(), []check.Guarantee{check.AtMostOnce, check.AtLeastOnce}, 0))
	for _, want := range []string{
		`<svg class="timeline" id="timeline-s0" viewBox="0 0 1000 `,
		`data-seconds="2"`, // the history spans 1.7s
		`data-series="sends acknowledged" data-points="2"`,
		`data-series="records delivered to groups" data-points="2"`,
		`data-series="p50" data-points="1"`, // the sends all began in second 0
		`>consumer-kill</text>`,
		// html/template writes "+" as "&#43;"
		`<title>&#43;1.600s consumer-kill p2</title>`,
		// at-most-once forbids duplicate-delivery: its lane is a violation's
		`<text class="lanelabel violation" x="120" y="`,
		`>duplicate-delivery</text>`,
		`<td>at-most-once</td><td><span class="violated">VIOLATED</span></td><td>duplicate-delivery 1</td><td>lost-write 1, undelivered 1, poll-skip 1</td>`,
		`<td>at-least-once</td><td><span class="violated">VIOLATED</span></td><td>lost-write 1, undelivered 1, poll-skip 1</td><td>duplicate-delivery 1</td>`,
		`lost-write: 1 <span class="violation">(counted under at-most-once, VIOLATION of at-least-once)</span>`,
		`<div class="finding" id="s0-f0"><div>b was acknowledged at offset 1 and never read, though offset 2 was</div>`,
		`<td>#1</td><td>&#43;0.010s</td><td>acknowledged send</td><td class="op">p1 send t/0 b ok@1</td>`,
		`<td>&#43;1.600s</td><td>consumer-kill</td><td>ok</td><td>p2</td>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s", want)
		}
	}
	// Each finding's marks link to it in the list: 4 findings, listed.
	if n := strings.Count(s, `<a href="#s0-f`); n != 4 {
		t.Errorf("%d marks link to findings, want 4", n)
	}
	if t.Failed() {
		t.Log(s)
	}
}

// The page stands alone: no script, nothing fetched from anywhere.
func TestHTMLIsSelfContained(t *testing.T) {
	s := render(t, pageOf(lossyHistory(), check.Guarantees, 0))
	for _, bad := range []string{"<script", "http://", "https://", " src=", "<link", "@import", "url("} {
		if strings.Contains(s, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
}

// Findings past the cap are not listed, and the page says how many it
// left out; their marks on the timeline stay, without a link.
func TestHTMLStatesTheCap(t *testing.T) {
	var ops []history.Op
	for i, v := range []string{"a", "b", "c"} {
		ops = append(ops, history.Op{Process: 1, Kind: history.Send, Time: t0, Outcome: history.OK,
			Record: &history.Record{Topic: "t", Offset: int64(i), Value: v}})
	}
	s := render(t, pageOf(ops, check.Guarantees, 2))
	if n := strings.Count(s, `<div class="finding"`); n != 2 {
		t.Errorf("%d findings listed, want 2", n)
	}
	if !strings.Contains(s, "The first 2 of 3 findings, with the operations that prove them (the cap is --max-findings); the JSON report (--json) has them all.") {
		t.Error("the cap is not stated")
	}
	if n := strings.Count(s, `<g class="mark violation" data-anomaly="unseen">`); n != 3 {
		t.Errorf("%d unseen marks, want 3", n)
	}
}

// The timeline draws at most MaxMarksPerAnomaly findings of one anomaly
// and says so.
func TestHTMLCapsMarks(t *testing.T) {
	var ops []history.Op
	for i := range MaxMarksPerAnomaly + 5 {
		ops = append(ops, history.Op{Process: 1, Kind: history.Send, Time: t0.Add(time.Duration(i) * time.Millisecond), Outcome: history.OK,
			Record: &history.Record{Topic: "t", Offset: int64(i), Value: string(rune('a'+i%26)) + strings.Repeat("x", i/26)}})
	}
	s := render(t, pageOf(ops, check.Guarantees, 0))
	if n := strings.Count(s, `data-anomaly="unseen"`); n != MaxMarksPerAnomaly {
		t.Errorf("%d marks, want %d", n, MaxMarksPerAnomaly)
	}
	if !strings.Contains(s, "unseen: the first 200 of 205 findings are drawn") {
		t.Error("the cap of the marks is not stated")
	}
}

// What a client wrote into a value is text on the page, never markup.
func TestHTMLEscapesValues(t *testing.T) {
	ops := []history.Op{{Process: 1, Kind: history.Send, Time: t0, Outcome: history.OK,
		Record: &history.Record{Topic: "t", Offset: 0, Value: `<script>alert(1)</script>`}}}
	s := render(t, pageOf(ops, check.Guarantees, 0))
	if strings.Contains(s, "<script>alert") || !strings.Contains(s, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("the value is not escaped:\n%s", s)
	}
}

// An empty history still makes a page: empty panels say why.
func TestHTMLOfEmptyHistory(t *testing.T) {
	s := render(t, pageOf(nil, check.Guarantees, 0))
	if !strings.Contains(s, "no operations") || !regexp.MustCompile(`data-points="0" d=""`).MatchString(s) {
		t.Fatalf("page:\n%s", s)
	}
}

// A run that tested less than it claims says so at the top of the page.
func TestHTMLShowsProblems(t *testing.T) {
	p := pageOf(nil, check.Guarantees, 0)
	p.Problems = []string{"fault cut never took effect"}
	s := render(t, p)
	if !strings.Contains(s, `<div class="problems"><p><b>The run tested less than it claims:</b></p><ul>
<li>fault cut never took effect</li>`) {
		t.Fatalf("page:\n%s", s)
	}
	if strings.Contains(render(t, pageOf(nil, check.Guarantees, 0)), `class="problems"`) {
		t.Fatal("a page without problems shows the box")
	}
}
