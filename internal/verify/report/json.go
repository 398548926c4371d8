package report

import (
	"encoding/json"
	"io"

	"sluice/internal/verify/check"
	"sluice/internal/verify/history"
)

// Document is the JSON report: what the history holds, a verdict per
// guarantee judged, every finding with its evidence (each evidence op
// in the history's own JSON form), and the faults injected.
type Document struct {
	Stats    check.Stats     `json:"stats"`
	Verdicts []check.Verdict `json:"verdicts"`
	Findings []check.Finding `json:"findings"`
	Faults   []history.Op    `json:"faults"`
}

// NewDocument judges r under each guarantee.
func NewDocument(r check.Result, guarantees []check.Guarantee) Document {
	d := Document{Stats: r.Stats, Verdicts: []check.Verdict{}, Findings: r.Findings, Faults: r.Faults}
	if d.Findings == nil {
		d.Findings = []check.Finding{}
	}
	if d.Faults == nil {
		d.Faults = []history.Op{}
	}
	for _, g := range guarantees {
		d.Verdicts = append(d.Verdicts, check.Judge(r, g))
	}
	return d
}

// JSON writes the report as one indented JSON document.
func JSON(w io.Writer, r check.Result, guarantees []check.Guarantee) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(NewDocument(r, guarantees))
}
