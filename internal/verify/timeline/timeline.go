// Package timeline turns a history into what the HTML report plots: per
// second of the run, the sends acknowledged, the records polled and the
// produce latency; the faults as instants; each finding at the times of
// the operations that prove it. It is a pure function of the history, the
// check's result and the run's origin, like package check.
package timeline

import (
	"slices"
	"time"

	"sluice/internal/verify/check"
	"sluice/internal/verify/history"
)

// Timeline is one history on the run's clock.
type Timeline struct {
	// Origin is time zero: a run's start, or a history's first op.
	Origin  time.Time `json:"origin"`
	Seconds []Second  `json:"seconds"`
	Faults  []Fault   `json:"faults"`
	// Findings follow the result's findings, one for one.
	Findings []Finding `json:"findings"`
}

// Second is one second of the run, [At, At+1s) after the origin.
type Second struct {
	At int `json:"at"`
	// Acked counts the sends whose acknowledgement came in this second;
	// Unacked those whose failure or unknown outcome (acks=0 sends, lost
	// acknowledgements) was known in it.
	Acked   int `json:"acked"`
	Unacked int `json:"unacked"`
	// Polls and Delivered: polls of consumer groups' members that began
	// in this second, and the records they returned (repeats included):
	// what reached the applications. VerifierReads counts the records of
	// polls without a group, the verifier's own reads (a read_committed
	// observer, the final drain), apart: the drain reads every topic at
	// once at the end and would dwarf the rest.
	Polls         int `json:"polls"`
	Delivered     int `json:"delivered"`
	VerifierReads int `json:"verifier_reads"`
	// Latency of the acknowledged sends that began in this second, from
	// send to acknowledgement: bucketed by their start, so that a spike
	// lines up with the fault that caused it. Zero when none was measured.
	Measured int           `json:"measured"`
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
}

// Fault is an injected fault, at the time it was recorded.
type Fault struct {
	At     time.Duration `json:"at"`
	Name   string        `json:"name"`
	Detail string        `json:"detail,omitempty"`
	// Took is whether it took effect (outcome ok or none).
	Took bool `json:"took"`
}

// Finding places a check finding on the timeline: the times of its
// evidence ops, in the finding's order.
type Finding struct {
	Anomaly check.Anomaly   `json:"anomaly"`
	At      []time.Duration `json:"at"`
}

// Build lays ops (one merged history) and r (its check) out in seconds
// from origin. An op before origin counts in second 0.
func Build(ops []history.Op, r check.Result, origin time.Time) Timeline {
	tl := Timeline{Origin: origin, Faults: []Fault{}, Findings: []Finding{}}
	b := buckets{origin: origin}
	for _, op := range ops {
		b.add(op)
	}
	tl.Seconds = b.seconds()
	for _, op := range r.Faults {
		tl.Faults = append(tl.Faults, Fault{At: since(origin, op.Time), Name: op.Fault, Detail: op.Detail, Took: op.Outcome != history.Fail && op.Outcome != history.Info})
	}
	for _, f := range r.Findings {
		tf := Finding{Anomaly: f.Anomaly, At: []time.Duration{}}
		for _, e := range f.Evidence {
			tf.At = append(tf.At, since(origin, e.Op.Time))
		}
		tl.Findings = append(tl.Findings, tf)
	}
	return tl
}

// Duration is how long the timeline spans, in whole seconds.
func (tl Timeline) Duration() time.Duration {
	return time.Duration(len(tl.Seconds)) * time.Second
}

// since is t's offset from origin, never negative.
func since(origin, t time.Time) time.Duration {
	return max(t.Sub(origin), 0)
}

// buckets gathers the counts of each second as ops are added.
type buckets struct {
	origin    time.Time
	secs      []Second
	latencies [][]time.Duration
}

func (b *buckets) at(t time.Time) *Second {
	i := int(since(b.origin, t) / time.Second)
	for len(b.secs) <= i {
		b.secs = append(b.secs, Second{At: len(b.secs)})
		b.latencies = append(b.latencies, nil)
	}
	return &b.secs[i]
}

func (b *buckets) add(op history.Op) {
	switch op.Kind {
	case history.Send:
		end := op.End
		if end.IsZero() {
			end = op.Time
		}
		if op.Outcome != history.OK {
			b.at(end).Unacked++
			return
		}
		b.at(end).Acked++
		if !op.End.IsZero() {
			i := b.at(op.Time).At
			b.latencies[i] = append(b.latencies[i], op.End.Sub(op.Time))
		}
	case history.Poll:
		s := b.at(op.Time)
		if op.Group == "" {
			s.VerifierReads += len(op.Records)
			return
		}
		s.Polls++
		s.Delivered += len(op.Records)
	default:
		b.at(op.Time) // a second with only a fault or a commit still exists
	}
}

func (b *buckets) seconds() []Second {
	for i, ls := range b.latencies {
		if len(ls) == 0 {
			continue
		}
		slices.Sort(ls)
		b.secs[i].Measured = len(ls)
		b.secs[i].P50, b.secs[i].P99 = Percentile(ls, 50), Percentile(ls, 99)
	}
	if b.secs == nil {
		return []Second{}
	}
	return b.secs
}

// Percentile is the nearest-rank p-th percentile of sorted, which must
// not be empty: the smallest value with at least p% of the values at or
// below it, so that it is always a latency that was measured.
func Percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}
