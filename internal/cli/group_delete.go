package cli

// `sluice group delete`.

import (
	"context"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
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
	return c.runAdmin("group delete", stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		rs, err := adm.DeleteGroups(ctx, groups...)
		if err != nil {
			return err
		}
		// One line per group, in the order asked for.
		return eachName(groups, "group", func(g string) (bool, error) {
			r, ok := rs[g]
			if r.Err != nil {
				return ok, fmt.Errorf("group %q: %w", g, withMessage(r.Err, r.ErrMessage))
			}
			return ok, nil
		}, func(g string) { fmt.Fprintf(stdout, "Deleted group %q.\n", g) })
	})
}
