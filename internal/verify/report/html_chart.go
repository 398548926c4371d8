package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"sluice/internal/verify/check"
	"sluice/internal/verify/timeline"
)

// The timeline is drawn here, in Go, as inline SVG: the page needs no
// script to show it, and what it draws is testable without a browser.
// Coordinates are in the SVG's viewBox; the browser scales it to the
// page's width.
const (
	chartWidth   = 1000
	plotLeft     = 124 // room for the y axis labels and the anomaly names
	plotRight    = chartWidth - 16
	labelBand    = 150 // rotated fault names: the longest is 27 characters
	rateHeight   = 190
	latHeight    = 130
	panelGap     = 34
	laneHeight   = 18
	axisHeight   = 26
	markerRadius = 3.5
)

// MaxMarksPerAnomaly caps the findings of one anomaly drawn on a timeline:
// past a few hundred, more dots show nothing new and swell the page.
const MaxMarksPerAnomaly = 200

type chartView struct {
	ID            string
	Width, Height int
	Panels        []panelView
	XTicks        []tickView
	Faults        []faultLineView
	Columns       []columnView
	Lanes         []laneView
	PlotLeft      int
	PlotRight     int
	TickX         int     // where the y axis labels end
	MidX          float64 // the plot's middle, for a panel's "nothing to plot"
	AxisY         float64 // the x axis
	Radius        float64
	Notes         []string
}

type panelView struct {
	Title string
	Y, H  float64
	// TitleY, Bottom and MidY are the title's baseline, the panel's
	// bottom and middle.
	TitleY, Bottom, MidY float64
	YTicks               []tickView
	Series               []seriesView
	Empty                string // said in the panel when it has nothing to plot
}

type tickView struct {
	Pos   float64
	Label string
}

// seriesView is one line: an SVG path whose subpaths skip the seconds
// without a value (a latency needs an acknowledged send).
type seriesView struct {
	Name, Class, D string
	Points         int
}

type faultLineView struct {
	X, Y1, Y2 float64
	Label     string
	Title     string
	Took      bool
}

// columnView is one second's hover area: its title gives the numbers.
type columnView struct {
	X, W  float64
	Title string
}

type laneView struct {
	Y     float64
	Label string
	Class string // "violation" or "counted"
	Marks []markView
}

type markView struct {
	Href   string // the finding in the list below, when it is listed
	Title  string
	X1, X2 float64
	Xs     []float64
}

// chart lays out one section's timeline. listed says whether the i-th
// finding is in the list below the chart (then its marks link to it).
func newChart(id string, tl timeline.Timeline, r check.Result, guarantees []check.Guarantee, listed func(i int) string) chartView {
	n := max(len(tl.Seconds), 1)
	c := chartView{ID: id, Width: chartWidth, PlotLeft: plotLeft, PlotRight: plotRight, TickX: plotLeft - 4,
		MidX: (plotLeft + plotRight) / 2, Radius: markerRadius}
	x := func(d time.Duration) float64 {
		return round1(plotLeft + d.Seconds()/float64(n)*(plotRight-plotLeft))
	}
	mid := func(s int) float64 { return x(time.Duration(s)*time.Second + time.Second/2) }
	y := float64(labelBand)
	c.Panels = append(c.Panels, ratePanel(tl, y, mid))
	y += rateHeight + panelGap
	c.Panels = append(c.Panels, latencyPanel(tl, y, mid))
	y += latHeight + panelGap
	c.Lanes, c.Notes = lanes(tl, r, guarantees, y, x, listed)
	y += float64(len(c.Lanes) * laneHeight)
	for _, s := range tl.Seconds {
		c.Columns = append(c.Columns, columnView{X: x(time.Duration(s.At) * time.Second), W: round1(float64(plotRight-plotLeft) / float64(n)), Title: secondTitle(s)})
	}
	for _, f := range tl.Faults {
		c.Faults = append(c.Faults, faultLineView{X: x(f.At), Y1: labelBand - 4, Y2: y, Label: f.Name, Took: f.Took,
			Title: fmt.Sprintf("+%s %s %s", seconds(f.At), f.Name, f.Detail)})
	}
	for _, t := range timeTicks(n) {
		c.XTicks = append(c.XTicks, tickView{Pos: x(time.Duration(t) * time.Second), Label: fmt.Sprintf("%ds", t)})
	}
	c.AxisY = y
	c.Height = int(y) + axisHeight
	return c
}

func newPanel(title string, top, h float64) panelView {
	return panelView{Title: title, Y: top, H: h, TitleY: top - 8, Bottom: top + h, MidY: top + h/2}
}

func ratePanel(tl timeline.Timeline, top float64, mid func(int) float64) panelView {
	p := newPanel("per second", top, rateHeight)
	get := []struct {
		name, class string
		v           func(timeline.Second) float64
	}{
		{"sends acknowledged", "acked", func(s timeline.Second) float64 { return float64(s.Acked) }},
		{"sends not acknowledged", "unacked", func(s timeline.Second) float64 { return float64(s.Unacked) }},
		{"records delivered to groups", "records", func(s timeline.Second) float64 { return float64(s.Delivered) }},
		{"polls by group members", "polls", func(s timeline.Second) float64 { return float64(s.Polls) }},
	}
	top1 := 0.0
	for _, g := range get {
		for _, s := range tl.Seconds {
			top1 = max(top1, g.v(s))
		}
	}
	ymax := niceCeil(top1)
	p.YTicks = yTicks(p, ymax, func(v float64) string { return fmt.Sprintf("%g", v) })
	for _, g := range get {
		p.Series = append(p.Series, series(g.name, g.class, tl.Seconds, p, ymax, mid, func(s timeline.Second) (float64, bool) { return g.v(s), true }))
	}
	if len(tl.Seconds) == 0 {
		p.Empty = "no operations"
	}
	return p
}

func latencyPanel(tl timeline.Timeline, top float64, mid func(int) float64) panelView {
	p := newPanel("produce latency (ms), by the second the send began", top, latHeight)
	top1 := 0.0
	for _, s := range tl.Seconds {
		top1 = max(top1, ms(s.P99))
	}
	ymax := niceCeil(top1)
	p.YTicks = yTicks(p, ymax, func(v float64) string { return fmt.Sprintf("%g", v) })
	measured := func(d func(timeline.Second) time.Duration) func(timeline.Second) (float64, bool) {
		return func(s timeline.Second) (float64, bool) { return ms(d(s)), s.Measured > 0 }
	}
	p.Series = []seriesView{
		series("p50", "p50", tl.Seconds, p, ymax, mid, measured(func(s timeline.Second) time.Duration { return s.P50 })),
		series("p99", "p99", tl.Seconds, p, ymax, mid, measured(func(s timeline.Second) time.Duration { return s.P99 })),
	}
	if top1 == 0 {
		p.Empty = "no acknowledged send to measure (acks=0 sends are never acknowledged)"
	}
	return p
}

// series draws v over the seconds; a second where v has no value breaks
// the line.
func series(name, class string, secs []timeline.Second, p panelView, ymax float64, mid func(int) float64, v func(timeline.Second) (float64, bool)) seriesView {
	sv := seriesView{Name: name, Class: class}
	var d strings.Builder
	pen := "M"
	for _, s := range secs {
		val, ok := v(s)
		if !ok {
			pen = "M"
			continue
		}
		fmt.Fprintf(&d, "%s%g %g ", pen, mid(s.At), round1(p.Y+p.H-val/ymax*p.H))
		pen, sv.Points = "L", sv.Points+1
	}
	sv.D = strings.TrimSpace(d.String())
	return sv
}

func yTicks(p panelView, ymax float64, label func(float64) string) []tickView {
	var ts []tickView
	for _, f := range []float64{0, 0.5, 1} {
		ts = append(ts, tickView{Pos: round1(p.Y + p.H - f*p.H), Label: label(f * ymax)})
	}
	return ts
}

// lanes gives each anomaly found a row, with each finding (up to
// MaxMarksPerAnomaly) drawn at the times of its evidence, joined by a
// line: where the proof begins and where it is complete.
func lanes(tl timeline.Timeline, r check.Result, guarantees []check.Guarantee, top float64, x func(time.Duration) float64, listed func(int) string) ([]laneView, []string) {
	var ls []laneView
	var notes []string
	for _, an := range check.Anomalies {
		l := laneView{Label: string(an), Class: judgement(an, guarantees)}
		drawn := 0
		for i, f := range tl.Findings {
			if f.Anomaly != an || len(f.At) == 0 {
				continue
			}
			if drawn == MaxMarksPerAnomaly {
				notes = append(notes, fmt.Sprintf("%s: the first %d of %d findings are drawn", an, drawn, r.Count(an)))
				break
			}
			drawn++
			m := markView{Href: listed(i), Title: r.Findings[i].Summary, X1: x(slices.Min(f.At)), X2: x(slices.Max(f.At))}
			for _, at := range f.At {
				m.Xs = append(m.Xs, x(at))
			}
			l.Marks = append(l.Marks, m)
		}
		if drawn > 0 {
			l.Y = top + float64(len(ls)*laneHeight) + laneHeight/2
			ls = append(ls, l)
		}
	}
	return ls, notes
}

// judgement is "violation" when some guarantee judged forbids the
// anomaly, else "counted".
func judgement(an check.Anomaly, guarantees []check.Guarantee) string {
	for _, g := range guarantees {
		if !g.Allows(an) {
			return "violation"
		}
	}
	return "counted"
}

func secondTitle(s timeline.Second) string {
	t := fmt.Sprintf("%ds-%ds: %d sends acknowledged, %d not; %d records delivered to groups in %d polls", s.At, s.At+1, s.Acked, s.Unacked, s.Delivered, s.Polls)
	if s.VerifierReads > 0 {
		t += fmt.Sprintf("; %d records read by the verifier's own readers", s.VerifierReads)
	}
	if s.Measured > 0 {
		t += fmt.Sprintf("; latency of %d sends begun: p50 %s, p99 %s", s.Measured, s.P50.Round(10*time.Microsecond), s.P99.Round(10*time.Microsecond))
	}
	return t
}

// timeTicks are whole seconds on the x axis, at most a dozen.
func timeTicks(n int) []int {
	step := 1
	for _, s := range []int{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600} {
		step = s
		if n/s <= 12 {
			break
		}
	}
	var ts []int
	for t := 0; t <= n; t += step {
		ts = append(ts, t)
	}
	return ts
}

// niceCeil is the smallest 1, 2 or 5 times a power of ten at or above v
// (1 for nothing), so that the axis reads in round numbers.
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }
