package runner

import (
	"fmt"
	"strings"

	"sluice/internal/verify/check"
	"sluice/internal/verify/report"
)

// Page is the run as the HTML report shows it: one section per workload,
// each on the run's clock, so that a fault hitting every workload stands
// at the same second in each.
func (r *Result) Page(maxPerAnomaly int) report.Page {
	var names []string
	for _, w := range r.Workloads {
		names = append(names, string(w.Guarantee))
	}
	p := report.Page{
		Title: fmt.Sprintf("sluice verify, seed %d: %s", r.Seed, strings.Join(names, ", ")),
		Facts: []string{
			fmt.Sprintf("Seed %d: --seed %d gives the same faults at the same times and the same choices in the workers.", r.Seed, r.Seed),
			"Faults: " + faultList(r.Faults) + ".",
			fmt.Sprintf("Histories: %s ('sluice verify check' reads them).", r.Dir),
		},
		Problems:      r.AllUnmet(),
		MaxPerAnomaly: maxPerAnomaly,
	}
	for _, w := range r.Workloads {
		p.Sections = append(p.Sections, report.Section{
			Title:      string(w.Guarantee),
			Facts:      []string{fmt.Sprintf("Producers %s, consumers %s; histories in %s.", w.Producer, w.Consumer, w.Dir)},
			Guarantees: []check.Guarantee{w.Guarantee},
			Result:     w.Check,
			Timeline:   w.Timeline,
		})
	}
	return p
}

func faultList(fs []Fault) string {
	if len(fs) == 0 {
		return "none"
	}
	return joinFaults(fs)
}
