package check

import (
	"cmp"
	"fmt"
	"slices"

	"sluice/internal/verify/history"
)

// Finding is one anomaly and the operations that prove it.
type Finding struct {
	Anomaly Anomaly `json:"anomaly"`
	// Partition is where it happened; nil for findings about whole
	// transactions (torn-transaction, G1c).
	Partition *history.TopicPartition `json:"partition,omitempty"`
	Offsets   []int64                 `json:"offsets,omitempty"`
	Values    []string                `json:"values,omitempty"`
	Group     string                  `json:"group,omitempty"`
	Process   *int                    `json:"process,omitempty"`
	Txns      []string                `json:"txns,omitempty"`
	// Summary says what happened in a sentence.
	Summary  string     `json:"summary"`
	Evidence []Evidence `json:"evidence"`
}

// Evidence is one operation of a finding's proof.
type Evidence struct {
	// Role is the part the op plays: "acknowledged send", "read a later
	// offset", ...
	Role string `json:"role"`
	// Index is the op's position in the history.
	Index int `json:"index"`
	// Op is the op, a poll cut down to the records that matter here.
	Op history.Op `json:"op"`
}

// evidence is the op at index i in the role given; a poll keeps only the
// records keep accepts, so that a finding does not carry every record of a
// poll of a hundred partitions.
func (a *analysis) evidence(role string, i int, keep func(history.Record) bool) Evidence {
	op := a.ops[i]
	if op.Kind == history.Poll && keep != nil {
		var kept []history.Record
		for _, r := range op.Records {
			if keep(r) {
				kept = append(kept, r)
			}
		}
		op.Records = kept
	}
	return Evidence{Role: role, Index: i, Op: op}
}

// near keeps a partition's records within a few offsets of those given:
// enough context to see what came before and after.
func near(tp history.TopicPartition, offsets ...int64) func(history.Record) bool {
	const context = 3
	lo, hi := slices.Min(offsets)-context, slices.Max(offsets)+context
	return func(r history.Record) bool {
		return r.TP() == tp && r.Offset >= lo && r.Offset <= hi
	}
}

// holding keeps a partition's records with the value given.
func holding(tp history.TopicPartition, value string) func(history.Record) bool {
	return func(r history.Record) bool { return r.TP() == tp && r.Value == value }
}

// sortFindings puts findings in the order every report shows them, the
// same for the same history whatever order maps were walked in.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(x, y Finding) int {
		return cmp.Or(
			cmp.Compare(x.Anomaly.rank(), y.Anomaly.rank()),
			comparePartition(x.Partition, y.Partition),
			cmp.Compare(x.Group, y.Group),
			slices.Compare(x.Offsets, y.Offsets),
			slices.Compare(x.Values, y.Values),
			slices.Compare(x.Txns, y.Txns),
			cmp.Compare(firstIndex(x), firstIndex(y)),
		)
	})
}

func comparePartition(x, y *history.TopicPartition) int {
	switch {
	case x == nil || y == nil:
		return cmp.Compare(boolInt(x != nil), boolInt(y != nil))
	default:
		return compareTP(*x, *y)
	}
}

func firstIndex(f Finding) int {
	if len(f.Evidence) == 0 {
		return -1
	}
	return f.Evidence[0].Index
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// plural is "1 poll", "2 polls".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// offsetsText is "offset 4", "offsets [4 9]".
func offsetsText(offs []int64) string {
	if len(offs) == 1 {
		return fmt.Sprintf("offset %d", offs[0])
	}
	return fmt.Sprintf("offsets %v", offs)
}
