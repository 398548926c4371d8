package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"sluice/internal/verify/check"
	"sluice/internal/verify/timeline"
)

// Page is what the HTML report shows: a summary of every verdict, then
// one section per history checked (a run has one per workload). The page
// is one self-contained file: inline CSS and SVG, no script, nothing
// fetched, so that it opens from a CI artefact or a mail as it is.
type Page struct {
	Title string
	// Facts say what the page is about: the seed, the faults asked for,
	// where the histories are.
	Facts []string
	// Problems are what a run expected of itself and did not see: a page
	// with any tested less than it claims.
	Problems []string
	Sections []Section
	// MaxPerAnomaly caps the findings listed per anomaly in each section
	// (0: DefaultMaxPerAnomaly); the JSON report has them all.
	MaxPerAnomaly int
}

// Section is one history: its check, judged under Guarantees, and its
// timeline.
type Section struct {
	Title      string
	Facts      []string
	Guarantees []check.Guarantee
	Result     check.Result
	Timeline   timeline.Timeline
}

//go:embed html_page.tmpl
var pageTemplateText string

var pageTemplate = template.Must(template.New("page").Parse(pageTemplateText))

// WriteHTML writes p as one HTML page.
func WriteHTML(w io.Writer, p Page) error {
	if p.MaxPerAnomaly <= 0 {
		p.MaxPerAnomaly = DefaultMaxPerAnomaly
	}
	return pageTemplate.Execute(w, newPageView(p))
}

type pageView struct {
	Title    string
	Facts    []string
	Problems []string
	Summary  []summaryRow
	Sections []sectionView
	Holds    bool
}

type summaryRow struct {
	Section    string // anchor
	Title      string
	Guarantee  check.Guarantee
	Holds      bool
	Violations string
	Counted    string
}

type sectionView struct {
	ID        string
	Title     string
	Facts     []string
	Stats     []string
	Origin    string
	Chart     chartView
	Faults    []faultRow
	Matrix    matrixView
	Anomalies []anomalyView
}

type faultRow struct {
	At, Name, Detail, Outcome string
}

type matrixView struct {
	Guarantees []check.Guarantee
	Rows       []matrixRow
}

type matrixRow struct {
	Anomaly check.Anomaly
	Found   int
	Cells   []string
}

type anomalyView struct {
	Name     check.Anomaly
	Class    string
	Verdicts string // what each guarantee judged makes of it
	Count    int
	Findings []findingView
}

type findingView struct {
	ID       string
	Summary  string
	Evidence []evidenceRow
}

type evidenceRow struct {
	Index    int
	At, Role string
	Op       string
}

func newPageView(p Page) pageView {
	v := pageView{Title: p.Title, Facts: p.Facts, Problems: p.Problems, Holds: true}
	for i, s := range p.Sections {
		id := fmt.Sprintf("s%d", i)
		for _, g := range s.Guarantees {
			vd := check.Judge(s.Result, g)
			v.Holds = v.Holds && vd.Holds
			v.Summary = append(v.Summary, summaryRow{Section: id, Title: s.Title, Guarantee: g, Holds: vd.Holds,
				Violations: countsOrDash(vd.Violations), Counted: countsOrDash(vd.Counted)})
		}
		v.Sections = append(v.Sections, newSectionView(id, s, p.MaxPerAnomaly))
	}
	return v
}

func newSectionView(id string, s Section, maxPer int) sectionView {
	r, origin := s.Result, s.Timeline.Origin
	v := sectionView{ID: id, Title: s.Title, Facts: s.Facts, Stats: statsLines(r.Stats),
		Origin: origin.UTC().Format(time.RFC3339Nano), Matrix: newMatrix(r, s.Guarantees)}
	for _, op := range r.Faults {
		v.Faults = append(v.Faults, faultRow{At: "+" + seconds(op.Time.Sub(origin)), Name: op.Fault, Detail: op.Detail, Outcome: string(op.Outcome)})
	}
	listed := map[int]string{}
	for _, an := range check.Anomalies {
		n := r.Count(an)
		if n == 0 {
			continue
		}
		av := anomalyView{Name: an, Class: judgement(an, s.Guarantees), Verdicts: verdictsOf(an, s.Guarantees), Count: n}
		for i, f := range r.Findings {
			if f.Anomaly != an || len(av.Findings) == maxPer {
				continue
			}
			fv := findingView{ID: fmt.Sprintf("%s-f%d", id, i), Summary: f.Summary}
			for _, e := range f.Evidence {
				fv.Evidence = append(fv.Evidence, evidenceRow{Index: e.Index, At: "+" + seconds(e.Op.Time.Sub(origin)), Role: e.Role, Op: e.Op.String()})
			}
			listed[i] = "#" + fv.ID
			av.Findings = append(av.Findings, fv)
		}
		v.Anomalies = append(v.Anomalies, av)
	}
	v.Chart = newChart("timeline-"+id, s.Timeline, r, s.Guarantees, func(i int) string { return listed[i] })
	return v
}

func newMatrix(r check.Result, guarantees []check.Guarantee) matrixView {
	m := matrixView{Guarantees: guarantees}
	for _, an := range check.Anomalies {
		row := matrixRow{Anomaly: an, Found: r.Count(an)}
		for _, g := range guarantees {
			row.Cells = append(row.Cells, cell(g, an, row.Found))
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

// verdictsOf says, for a heading, what each guarantee makes of an anomaly.
func verdictsOf(an check.Anomaly, guarantees []check.Guarantee) string {
	s := ""
	for i, g := range guarantees {
		if i > 0 {
			s += ", "
		}
		if g.Allows(an) {
			s += "counted under " + string(g)
		} else {
			s += "VIOLATION of " + string(g)
		}
	}
	return s
}

func countsOrDash(cs []check.AnomalyCount) string {
	if len(cs) == 0 {
		return "-"
	}
	return countsText(cs)
}
