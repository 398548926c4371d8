package check

import "fmt"

// Guarantee is a delivery guarantee a run claims.
type Guarantee string

const (
	AtMostOnce  Guarantee = "at-most-once"
	AtLeastOnce Guarantee = "at-least-once"
	Idempotent  Guarantee = "idempotent"
	ExactlyOnce Guarantee = "exactly-once"
)

// Guarantees lists them, weakest first.
var Guarantees = []Guarantee{AtMostOnce, AtLeastOnce, Idempotent, ExactlyOnce}

// ParseGuarantee reads a guarantee's name.
func ParseGuarantee(s string) (Guarantee, error) {
	for _, g := range Guarantees {
		if string(g) == s {
			return g, nil
		}
	}
	return "", fmt.Errorf("unknown guarantee %q (want at-most-once, at-least-once, idempotent or exactly-once)", s)
}

// allowed lists, per guarantee, the anomalies it permits: they are
// counted, not held against it. Every other anomaly is a violation.
//
//   - at-most-once (acks=0 or no retries; commit before processing):
//     records may be lost, on the producer's side or the consumer's,
//     and a retry-free producer's order is not promised; nothing may
//     arrive twice.
//   - at-least-once (acks=all, retries; commit after processing):
//     nothing acknowledged may be lost; a retry may store a record twice
//     or out of order, and a crash or rebalance may deliver it twice.
//   - idempotent producer: as at-least-once, but the producer's retries
//     neither duplicate nor reorder records in the log; the consumer is
//     still at-least-once, so deliveries may repeat.
//   - exactly-once (transactions, read_committed): nothing allowed.
var allowed = map[Guarantee][]Anomaly{
	AtMostOnce:  {LostWrite, Unseen, Undelivered, PollSkip, NonmonotonicSend},
	AtLeastOnce: {Duplicate, DuplicateDelivery, NonmonotonicPoll, NonmonotonicSend},
	Idempotent:  {DuplicateDelivery, NonmonotonicPoll},
	ExactlyOnce: {},
}

// Allows reports whether g permits an anomaly.
func (g Guarantee) Allows(an Anomaly) bool {
	for _, x := range allowed[g] {
		if x == an {
			return true
		}
	}
	return false
}

// Verdict is whether a history keeps a guarantee.
type Verdict struct {
	Guarantee Guarantee `json:"guarantee"`
	Holds     bool      `json:"holds"`
	// Violations and Counted count findings by anomaly, in the order of
	// Anomalies, leaving out anomalies with none.
	Violations []AnomalyCount `json:"violations"`
	Counted    []AnomalyCount `json:"counted"`
}

// AnomalyCount is how many findings of one anomaly there were.
type AnomalyCount struct {
	Anomaly Anomaly `json:"anomaly"`
	Count   int     `json:"count"`
}

// Judge says whether r keeps g: it does when none of its findings is an
// anomaly g forbids.
func Judge(r Result, g Guarantee) Verdict {
	v := Verdict{Guarantee: g, Violations: []AnomalyCount{}, Counted: []AnomalyCount{}}
	for _, an := range Anomalies {
		n := r.Count(an)
		switch {
		case n == 0:
		case g.Allows(an):
			v.Counted = append(v.Counted, AnomalyCount{an, n})
		default:
			v.Violations = append(v.Violations, AnomalyCount{an, n})
		}
	}
	v.Holds = len(v.Violations) == 0
	return v
}
