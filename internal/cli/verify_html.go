package cli

// The HTML report of `sluice verify` and `sluice verify check` (--html
// FILE): one self-contained page, drawn by internal/verify/report.

import (
	"fmt"
	"io"
	"os"
	"strings"

	"sluice/internal/verify/check"
	"sluice/internal/verify/history"
	"sluice/internal/verify/report"
	"sluice/internal/verify/timeline"
)

// htmlFile is the report's file, created before the work so that a path
// that cannot be written fails at once, not after a run of minutes.
type htmlFile struct {
	f *os.File
}

func createHTML(path string) (*htmlFile, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--html: %w", err)
	}
	return &htmlFile{f}, nil
}

// write writes the page and says where it is; a nil file writes nothing.
func (h *htmlFile) write(p report.Page, stderr io.Writer) error {
	if h == nil {
		return nil
	}
	err := report.WriteHTML(h.f, p)
	if cerr := h.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the HTML report %s: %w", h.f.Name(), err)
	}
	fmt.Fprintf(stderr, "HTML report: %s\n", h.f.Name())
	return nil
}

// abandon removes the file of a report that will not be written.
func (h *htmlFile) abandon() {
	if h != nil {
		h.f.Close()
		os.Remove(h.f.Name())
	}
}

// checkPage is the page of `sluice verify check`: one section, the
// merged histories, on the clock of their first op.
func checkPage(files []string, ops []history.Op, r check.Result, guarantees []check.Guarantee, maxPer int) report.Page {
	return report.Page{
		Title: "sluice verify check: " + plural(len(files), "history file"),
		Facts: []string{"Histories: " + strings.Join(files, ", ") + "."},
		Sections: []report.Section{{
			Title: "merged histories", Guarantees: guarantees, Result: r,
			Timeline: timeline.Build(ops, r, r.Stats.Start),
		}},
		MaxPerAnomaly: maxPer,
	}
}
