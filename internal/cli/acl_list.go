package cli

// `sluice acl list`, and the filter it shares with `sluice acl delete`.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// aclFilter is the command line of a filter: the resources, and who, from
// where and what, each matching anything when not given. It takes
// create's flags too, so that the line that created an ACL deletes it.
type aclFilter struct {
	res                                 aclResources
	principals, allow, deny, operations multiFlag
	hosts, allowHosts, denyHosts        multiFlag
}

func (f *aclFilter) addFlags(fs *flag.FlagSet) {
	f.res.addFlags(fs, true)
	fs.Var(&f.principals, "principal", "only the ACLs of this principal (User:alice), allowing or denying; repeat for more")
	fs.Var(&f.allow, "allow-principal", "only the ACLs that allow this principal; repeat for more")
	fs.Var(&f.deny, "deny-principal", "only the ACLs that deny this principal; repeat for more")
	fs.Var(&f.hosts, "host", "only the ACLs of this host, allowing or denying (* is the ACLs for any host, not every ACL); repeat for more")
	fs.Var(&f.allowHosts, "allow-host", "only the ACLs that allow from this host; repeat for more")
	fs.Var(&f.denyHosts, "deny-host", "only the ACLs that deny from this host; repeat for more")
	fs.Var(&f.operations, "operation", "only the ACLs of this operation; repeat for more")
}

// builder checks the filter and makes it kadm's.
func (f *aclFilter) builder() (*kadm.ACLBuilder, error) {
	for flagName, ps := range map[string][]string{"principal": f.principals, "allow-principal": f.allow, "deny-principal": f.deny} {
		if err := checkPrincipals(flagName, ps); err != nil {
			return nil, err
		}
	}
	ops, err := parseOperations(f.operations)
	if err != nil {
		return nil, err
	}
	pattern, err := f.res.patternType("literal", "prefixed", "any", "match")
	if err != nil {
		return nil, err
	}
	if err := f.res.checkOperations(ops); err != nil {
		return nil, err
	}
	b := kadm.NewACLs().Operations(ops...).ResourcePatternType(pattern)
	if f.res.named() {
		f.res.build(b)
	} else {
		b.AnyResource()
	}
	return f.who(b), nil
}

// who puts the principals and hosts on b. The allow flags narrow the
// filter to ALLOW ACLs and the deny flags to DENY ones, unless both are
// given; --principal and --host apply to both. What is not given matches
// anything (kadm then sends a single filter of permission ANY).
func (f *aclFilter) who(b *kadm.ACLBuilder) *kadm.ACLBuilder {
	allowGiven := len(f.allow)+len(f.allowHosts) > 0
	denyGiven := len(f.deny)+len(f.denyHosts) > 0
	if allowGiven || !denyGiven {
		b.Allow(concat(f.principals, f.allow)...).AllowHosts(concat(f.hosts, f.allowHosts)...)
	} else {
		b.MaybeAllow().MaybeAllowHosts()
	}
	if denyGiven || !allowGiven {
		b.Deny(concat(f.principals, f.deny)...).DenyHosts(concat(f.hosts, f.denyHosts)...)
	} else {
		b.MaybeDeny().MaybeDenyHosts()
	}
	return b
}

func concat(a, b []string) []string { return append(append([]string{}, a...), b...) }

// matchesEverything is true for a filter that names neither a resource
// nor a principal.
func (f *aclFilter) matchesEverything() bool {
	return !f.res.named() && len(f.principals)+len(f.allow)+len(f.deny) == 0
}

// parseACLFilter parses the command line of a filter command (list,
// delete); extra adds the command's own flags. ok is false when the
// command must stop with code.
func parseACLFilter(name, more string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (f *aclFilter, c *conn, b *kadm.ACLBuilder, code int, ok bool) {
	fs, c := newClientFlags(name, name+" [--topic T | --group G | --transactional-id ID | --cluster]... [--principal P]... [--operation OP]..."+more, stderr)
	f = &aclFilter{}
	f.addFlags(fs)
	if extra != nil {
		extra(fs)
	}
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return nil, nil, nil, code, false
	}
	if len(pos) > 0 {
		return nil, nil, nil, cmdUsageError(stderr, name, "unexpected arguments %q (name resources with --topic, --group, --transactional-id or --cluster)", pos), false
	}
	b, err := f.builder()
	if err != nil {
		return nil, nil, nil, cmdUsageError(stderr, name, "%v", err), false
	}
	return f, c, b, 0, true
}

func runACLList(args []string, stdout, stderr io.Writer) int {
	const name = "acl list"
	_, c, b, code, ok := parseACLFilter(name, "", args, stderr, nil)
	if !ok {
		return code
	}
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		rs, err := adm.DescribeACLs(ctx, b)
		if err != nil {
			return err
		}
		var rows []aclRow
		var errs []error
		for _, r := range rs {
			if r.Err != nil {
				errs = append(errs, advise(refusal(r.Err, r.ErrMessage)))
				continue
			}
			for _, d := range r.Described {
				rows = append(rows, newACLRow(d.Type, d.Pattern, d.Name, d.Principal, d.Host, d.Operation, d.Permission))
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		if len(rows) == 0 {
			fmt.Fprintln(stdout, "No ACLs.")
			return nil
		}
		printACLs(stdout, rows)
		return nil
	})
}
