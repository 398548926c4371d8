package cli

// `sluice group delete`.

import (
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kadm"
)

func runGroupDelete(args []string, stdout, stderr io.Writer) int {
	fs, c := newGroupFlags("delete", "delete GROUP [GROUP...]", stderr)
	groups, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(groups) == 0 {
		return usageError(stderr, "delete", "name at least one GROUP")
	}
	adm, ctx, done, err := c.admin()
	if err != nil {
		return failure(stderr, "delete", err)
	}
	defer done()
	rs, err := adm.DeleteGroups(ctx, groups...)
	if err != nil {
		return failure(stderr, "delete", c.explain(ctx, err))
	}
	return reportDeletes(groups, rs, stdout, stderr)
}

// reportDeletes prints one line per group, in the order asked for.
func reportDeletes(groups []string, rs kadm.DeleteGroupResponses, stdout, stderr io.Writer) int {
	code := 0
	for _, g := range groups {
		r, ok := rs[g]
		switch {
		case !ok:
			code = failure(stderr, "delete", fmt.Errorf("group %q: the broker's answer does not mention it", g))
		case r.Err != nil:
			code = failure(stderr, "delete", fmt.Errorf("group %q: %w", g, withMessage(r.Err, r.ErrMessage)))
		default:
			fmt.Fprintf(stdout, "Deleted group %q.\n", g)
		}
	}
	return code
}
