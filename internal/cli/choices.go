package cli

import (
	"fmt"
	"slices"
	"strings"
)

// parseChoices reads a comma-separated list of names from valid, accepted
// in any letter case (as Kafka's tools do) and returned spelled as in
// valid, which is how brokers compare them. "" is no names.
func parseChoices(s string, valid []string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		i := slices.IndexFunc(valid, func(v string) bool { return strings.EqualFold(v, part) })
		if i < 0 {
			return nil, fmt.Errorf("unknown state %q (want one of %s)", part, strings.Join(valid, ", "))
		}
		out = append(out, valid[i])
	}
	return out, nil
}
