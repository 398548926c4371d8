package runner

import (
	"fmt"
	"slices"
	"strings"

	"sluice/internal/verify/check"
	"sluice/internal/verify/history"
	"sluice/internal/verify/timeline"
	"sluice/internal/verify/workload"
)

// Result is what a run found.
type Result struct {
	Seed      uint64           `json:"seed"`
	Faults    []Fault          `json:"faults"`
	Dir       string           `json:"dir"`
	Workloads []WorkloadResult `json:"workloads"`
	// Unmet lists what the run expected of itself and did not see: a
	// fault that never took effect, a client that died by itself, a
	// group that never caught up. Such a run tested less than it says.
	Unmet []string `json:"unmet"`
}

// WorkloadResult is what one guarantee's workload showed.
type WorkloadResult struct {
	Guarantee check.Guarantee          `json:"guarantee"`
	Producer  workload.ProducerSetting `json:"producer"`
	// Consumer is a workload.ConsumerSetting, or "transactional".
	Consumer string               `json:"consumer"`
	Dir      string               `json:"dir"`
	Check    check.Result         `json:"-"`
	Verdict  check.Verdict        `json:"verdict"`
	Drain    workload.DrainResult `json:"drain"`
	Unmet    []string             `json:"unmet"`
	// Timeline is the history per second on the run's clock, for the
	// HTML report.
	Timeline timeline.Timeline `json:"-"`
}

// Violated reports whether some workload broke its guarantee.
func (r *Result) Violated() bool {
	return slices.ContainsFunc(r.Workloads, func(w WorkloadResult) bool { return !w.Verdict.Holds })
}

// AllUnmet lists every expectation missed, the run's and the workloads'.
func (r *Result) AllUnmet() []string {
	out := slices.Clone(r.Unmet)
	for _, w := range r.Workloads {
		for _, u := range w.Unmet {
			out = append(out, fmt.Sprintf("%s: %s", w.Guarantee, u))
		}
	}
	return out
}

// result reads back and checks each workload's histories.
func (r *run) result(drains map[*workloadRun]workload.DrainResult) (*Result, error) {
	res := &Result{Seed: r.cfg.Seed, Faults: r.cfg.Faults, Dir: r.dir, Unmet: []string{}}
	took := map[string]bool{}
	for _, w := range r.workloads {
		ops, err := history.ReadDir(w.dir)
		if err != nil {
			return nil, err
		}
		c := check.Check(ops)
		for _, f := range c.Faults {
			took[f.Fault] = took[f.Fault] || f.Outcome == history.OK
		}
		wr := WorkloadResult{Guarantee: w.g, Producer: w.setup.producer, Consumer: string(w.setup.consumer), Dir: w.dir,
			Check: c, Verdict: check.Judge(c, w.g), Drain: drains[w], Unmet: w.unmet(ops, c, drains[w]),
			Timeline: timeline.Build(ops, c, r.t0)}
		if w.setup.eos {
			wr.Consumer = "transactional"
		}
		res.Workloads = append(res.Workloads, wr)
	}
	r.mu.Lock()
	res.Unmet = append(res.Unmet, r.unmet...)
	r.mu.Unlock()
	for _, f := range r.cfg.Faults {
		if !took[string(f)] {
			res.Unmet = append(res.Unmet, fmt.Sprintf("fault %s never took effect", f))
		}
	}
	return res, nil
}

// unmet lists what the workload should have shown and did not.
func (w *workloadRun) unmet(ops []history.Op, c check.Result, d workload.DrainResult) []string {
	out := []string{}
	miss := func(ok bool, format string, args ...any) {
		if !ok {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	s := c.Stats
	miss(s.SendsOK+s.SendsInfo+s.SendsFail > 0, "no record was sent")
	miss(w.setup.producer == workload.AcksNone || s.SendsOK > 0, "no send was acknowledged")
	delivered := 0
	for _, op := range ops {
		if op.Kind == history.Poll && op.Group != "" {
			delivered += len(op.Records)
		}
	}
	miss(delivered > 0, "no record was delivered to a consumer group")
	miss(!w.setup.eos || s.TxnsCommitted > 0, "no transaction committed")
	miss(len(d.Unstable) == 0, "transactions were still open when the drain gave up waiting: %s", strings.Join(d.Unstable, ", "))
	miss(len(d.Short) == 0, "the final drain did not read to the end: %s", strings.Join(d.Short, ", "))
	return out
}

func shortName(g check.Guarantee) string {
	return map[check.Guarantee]string{check.AtMostOnce: "amo", check.AtLeastOnce: "alo", check.Idempotent: "idem", check.ExactlyOnce: "eos"}[g]
}

func (r *run) guaranteeNames() string {
	names := make([]string, len(r.workloads))
	for i, w := range r.workloads {
		names[i] = string(w.g)
	}
	return strings.Join(names, ", ")
}
