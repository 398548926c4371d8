package cli

// `sluice acl delete`.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// runACLDelete deletes what a filter matches. kafka-acls.sh asks "Are you
// sure" before every removal; a command that scripts run cannot ask, so
// instead a filter that names neither a resource nor a principal, and so
// could take every ACL of the cluster, needs --force. 'sluice acl list'
// with the same filter shows first what would go.
func runACLDelete(args []string, stdout, stderr io.Writer) int {
	const name = "acl delete"
	var force *bool
	f, c, b, code, ok := parseACLFilter(name, " [--force]", args, stderr, func(fs *flag.FlagSet) {
		force = fs.Bool("force", false, "delete even when the filter names neither a resource nor a principal")
	})
	if !ok {
		return code
	}
	if f.matchesEverything() && !*force {
		return cmdUsageError(stderr, name, "this filter names no resource and no principal, so it may match every ACL; "+
			"narrow it, or add --force ('sluice acl list' with the same flags shows what it matches)")
	}
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		rs, err := adm.DeleteACLs(ctx, b)
		if err != nil {
			return err
		}
		return reportDeleted(stdout, rs)
	})
}

// reportDeleted prints the ACLs deleted and returns the errors of the
// filters and matches that failed.
func reportDeleted(w io.Writer, rs kadm.DeleteACLsResults) error {
	var rows []aclRow
	var errs []error
	for _, r := range rs {
		if r.Err != nil {
			errs = append(errs, advise(refusal(r.Err, r.ErrMessage)))
			continue
		}
		for _, d := range r.Deleted {
			row := newACLRow(d.Type, d.Pattern, d.Name, d.Principal, d.Host, d.Operation, d.Permission)
			if d.Err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", row, advise(refusal(d.Err, d.ErrMessage))))
				continue
			}
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 && len(errs) == 0 {
		fmt.Fprintln(w, "No ACL matches; nothing was deleted.")
	}
	if rows = sortedACLs(rows); len(rows) > 0 {
		fmt.Fprintf(w, "Deleted %s:\n", plural(len(rows), "ACL"))
		printACLs(w, rows)
	}
	return errors.Join(errs...)
}
