package cli

// `sluice acl create`.

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// aclCreate is the command line of `sluice acl create`.
type aclCreate struct {
	res                   aclResources
	allow, deny           multiFlag
	allowHosts, denyHosts multiFlag
	operations            multiFlag
	ops                   []kadm.ACLOperation
	pattern               kadm.ACLPattern
}

func runACLCreate(args []string, stdout, stderr io.Writer) int {
	const name = "acl create"
	fs, c := newClientFlags(name, name+" (--allow-principal P | --deny-principal P)... --operation OP... (--topic T | --group G | --transactional-id ID | --cluster)... [--resource-pattern-type prefixed]", stderr)
	a := &aclCreate{}
	a.res.addFlags(fs, false)
	fs.Var(&a.allow, "allow-principal", "a principal to allow, as TYPE:NAME (User:alice; User:* is everyone); repeat for more")
	fs.Var(&a.deny, "deny-principal", "a principal to deny (a deny wins over every allow); repeat for more")
	fs.Var(&a.allowHosts, "allow-host", "an IP address the allowed principals may connect from (default *: any); repeat for more")
	fs.Var(&a.denyHosts, "deny-host", "an IP address the denied principals are denied from (default *: any); repeat for more")
	fs.Var(&a.operations, "operation", "an operation: "+opNames(aclOperations)+" (any case); repeat for more")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return cmdUsageError(stderr, name, "unexpected arguments %q (name resources with --topic, --group, --transactional-id or --cluster)", pos)
	}
	if err := a.check(); err != nil {
		return cmdUsageError(stderr, name, "%v", err)
	}
	b := a.res.build(kadm.NewACLs()).MaybeAllow(a.allow...).MaybeAllowHosts(a.allowHosts...).
		MaybeDeny(a.deny...).MaybeDenyHosts(a.denyHosts...).Operations(a.ops...).ResourcePatternType(a.pattern)
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		rs, err := adm.CreateACLs(ctx, b)
		if err != nil {
			return err
		}
		return reportCreated(stdout, rs)
	})
}

// check validates the command line and parses the operations and the
// pattern type.
func (a *aclCreate) check() error {
	var err error
	switch {
	case len(a.allow)+len(a.deny) == 0:
		return fmt.Errorf("name who with --allow-principal or --deny-principal")
	case len(a.allowHosts) > 0 && len(a.allow) == 0:
		return fmt.Errorf("--allow-host goes with --allow-principal")
	case len(a.denyHosts) > 0 && len(a.deny) == 0:
		return fmt.Errorf("--deny-host goes with --deny-principal")
	case len(a.operations) == 0:
		return fmt.Errorf("name what with --operation (%s)", opNames(aclOperations))
	case !a.res.named():
		return fmt.Errorf("name a resource with --topic, --group, --transactional-id or --cluster")
	}
	if err = checkPrincipals("allow-principal", a.allow); err == nil {
		err = checkPrincipals("deny-principal", a.deny)
	}
	if err != nil {
		return err
	}
	if a.ops, err = parseOperations(a.operations); err != nil {
		return err
	}
	if a.pattern, err = a.res.patternType("literal", "prefixed"); err != nil {
		return err
	}
	return a.res.checkOperations(a.ops)
}

// reportCreated prints the ACLs created and returns the errors of those
// that were not, each naming its ACL.
func reportCreated(w io.Writer, rs kadm.CreateACLsResults) error {
	var rows []aclRow
	var errs []error
	for _, r := range rs {
		row := newACLRow(r.Type, r.Pattern, r.Name, r.Principal, r.Host, r.Operation, r.Permission)
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", row, advise(refusal(r.Err, r.ErrMessage))))
			continue
		}
		rows = append(rows, row)
	}
	if rows = sortedACLs(rows); len(rows) > 0 {
		fmt.Fprintf(w, "Created %s:\n", plural(len(rows), "ACL"))
		printACLs(w, rows)
	}
	return errors.Join(errs...)
}
