package cli

// `sluice acl`: ACLs through franz-go's kadm (CreateAcls, DescribeAcls,
// DeleteAcls), for any Kafka-compatible broker. The flags are those of
// Kafka's kafka-acls.sh where they fit (--allow-principal, --operation,
// --topic, --resource-pattern-type), so that what a person knows of one
// works with the other.

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const aclUsageText = `Usage: sluice acl <subcommand> [flags]

Create, list and delete ACLs: which principal may (or may not) do which
operation on which resource, from which host.

Subcommands:
  create  allow or deny principals operations on topics, groups,
          transactional ids or the cluster
  list    list ACLs, all or those a filter matches, as a table
  delete  delete the ACLs a filter matches and print them

A filter takes create's flags (so the line that created an ACL deletes
it), --principal and --host for either permission, and pattern types any
and match besides literal and prefixed.

Examples:
  sluice acl create --allow-principal User:alice --operation Read --operation Write \
    --topic orders. --resource-pattern-type prefixed
  sluice acl create --allow-principal User:alice --operation Read --group billing
  sluice acl create --deny-principal User:bob --operation All --cluster
  sluice acl list --principal User:alice
  sluice acl delete --allow-principal User:alice --operation Read --group billing

A broker with authorization on answers these only to a principal with
ALTER (create, delete) or DESCRIBE (list) on the cluster, such as a super
user. Every subcommand takes --brokers host:port[,host:port] (default:
$SLUICE_BROKERS, else 127.0.0.1:9092), --timeout, and the SASL and TLS
flags. Run 'sluice acl <subcommand> -h' for its flags.
`

var aclCommands = subcommands{
	"create": runACLCreate,
	"list":   runACLList,
	"delete": runACLDelete,
}

func runACL(args []string, stdout, stderr io.Writer) int {
	return dispatch("acl", aclUsageText, aclCommands, args, stdout, stderr)
}

// aclResources are the resource flags: the same for creating and for
// filtering.
type aclResources struct {
	topics, groups, txnIDs multiFlag
	cluster                bool
	pattern                string
}

func (r *aclResources) addFlags(fs *flag.FlagSet, filter bool) {
	fs.Var(&r.topics, "topic", "a topic (or with --resource-pattern-type prefixed, a prefix of topic names; * is every topic); repeat for more")
	fs.Var(&r.groups, "group", "a consumer group (or a prefix, or *); repeat for more")
	fs.Var(&r.txnIDs, "transactional-id", "a transactional id (or a prefix, or *); repeat for more")
	fs.BoolVar(&r.cluster, "cluster", false, "the cluster (kafka-cluster), for cluster-wide operations such as creating topics or ACLs")
	if filter {
		fs.StringVar(&r.pattern, "resource-pattern-type", "", "literal, prefixed, any (either, with the exact name) or match (every ACL that applies to the named resource: literal, prefixed and *); default: literal with a named resource, else any")
		return
	}
	fs.StringVar(&r.pattern, "resource-pattern-type", "literal", "literal (the name itself) or prefixed (every name that begins with it)")
}

func (r *aclResources) named() bool {
	return len(r.topics)+len(r.groups)+len(r.txnIDs) > 0 || r.cluster
}

// patternType parses --resource-pattern-type among allowed.
func (r *aclResources) patternType(allowed ...string) (kadm.ACLPattern, error) {
	p := r.pattern
	if p == "" {
		p = "any"
		if r.named() {
			p = "literal"
		}
	}
	if !slices.Contains(allowed, strings.ToLower(p)) {
		return 0, fmt.Errorf("--resource-pattern-type %q: want %s", r.pattern, strings.Join(allowed, ", "))
	}
	return kmsg.ParseACLResourcePatternType(p)
}

// build puts the resources on b.
func (r *aclResources) build(b *kadm.ACLBuilder) *kadm.ACLBuilder {
	return b.MaybeTopics(r.topics...).MaybeGroups(r.groups...).MaybeTransactionalIDs(r.txnIDs...).MaybeClusters(r.cluster)
}

// aclOperations are the operations an ACL may name, in kafka-acls.sh's
// order; opName spells them its way (ClusterAction).
var aclOperations = []kadm.ACLOperation{kadm.OpRead, kadm.OpWrite, kadm.OpCreate, kadm.OpDelete, kadm.OpAlter,
	kadm.OpDescribe, kadm.OpClusterAction, kadm.OpDescribeConfigs, kadm.OpAlterConfigs, kadm.OpIdempotentWrite, kadm.OpAll}

// parseOperations reads --operation values in any case and with or
// without underscores (ClusterAction, CLUSTER_ACTION, clusteraction).
func parseOperations(names []string) ([]kadm.ACLOperation, error) {
	var ops []kadm.ACLOperation
	for _, n := range names {
		op, err := kmsg.ParseACLOperation(n)
		if err != nil || !slices.Contains(aclOperations, op) {
			return nil, fmt.Errorf("--operation %q: want one of %s", n, opNames(aclOperations))
		}
		if !slices.Contains(ops, op) {
			ops = append(ops, op)
		}
	}
	return ops, nil
}

// resourceOperations are the operations Kafka accepts on each resource
// type besides ALL (kafka-acls.sh refuses the others: an ACL for WRITE on
// a group would allow nothing).
var resourceOperations = map[string][]kadm.ACLOperation{
	"topic": {kadm.OpRead, kadm.OpWrite, kadm.OpCreate, kadm.OpDelete, kadm.OpAlter, kadm.OpDescribe,
		kadm.OpDescribeConfigs, kadm.OpAlterConfigs},
	"group":            {kadm.OpRead, kadm.OpDescribe, kadm.OpDelete},
	"transactional-id": {kadm.OpWrite, kadm.OpDescribe},
	"cluster": {kadm.OpCreate, kadm.OpClusterAction, kadm.OpDescribeConfigs, kadm.OpAlterConfigs,
		kadm.OpIdempotentWrite, kadm.OpAlter, kadm.OpDescribe},
}

// checkOperations refuses an operation that the named resources' types
// do not have.
func (r *aclResources) checkOperations(ops []kadm.ACLOperation) error {
	for _, typ := range []struct {
		flag  string
		given bool
	}{{"topic", len(r.topics) > 0}, {"group", len(r.groups) > 0}, {"transactional-id", len(r.txnIDs) > 0}, {"cluster", r.cluster}} {
		for _, op := range ops {
			if typ.given && op != kadm.OpAll && !slices.Contains(resourceOperations[typ.flag], op) {
				return fmt.Errorf("--%s has no operation %s; it has %s and All", typ.flag, opName(op), opNames(resourceOperations[typ.flag]))
			}
		}
	}
	return nil
}

// opName is an operation as kafka-acls.sh spells it: CLUSTER_ACTION is
// ClusterAction.
func opName(op kadm.ACLOperation) string {
	var b strings.Builder
	for w := range strings.SplitSeq(strings.ToLower(op.String()), "_") {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

func opNames(ops []kadm.ACLOperation) string {
	var ns []string
	for _, op := range ops {
		ns = append(ns, opName(op))
	}
	return strings.Join(ns, ", ")
}

// checkPrincipals refuses a principal without its type: brokers store
// "User:alice", and a bare "alice" would match no one.
func checkPrincipals(flagName string, ps []string) error {
	for _, p := range ps {
		if typ, name, ok := strings.Cut(p, ":"); !ok || typ == "" || name == "" {
			return fmt.Errorf("--%s %q: want TYPE:NAME, for example User:alice (User:* is everyone)", flagName, p)
		}
	}
	return nil
}

// aclRow is one ACL as the tables print it.
type aclRow struct{ typ, pattern, name, principal, host, op, perm string }

func newACLRow(typ kmsg.ACLResourceType, pattern kadm.ACLPattern, name, principal, host string, op kadm.ACLOperation, perm kmsg.ACLPermissionType) aclRow {
	return aclRow{typ.String(), pattern.String(), name, principal, host, op.String(), perm.String()}
}

// String is the row in words, for the errors about one ACL.
func (r aclRow) String() string {
	return fmt.Sprintf("%s %s %s on %s %q (%s) from host %s", r.perm, r.principal, r.op, r.typ, r.name, r.pattern, r.host)
}

// sortedACLs sorts rows by their columns, left to right, and drops
// repeats (filters of one request may overlap).
func sortedACLs(rows []aclRow) []aclRow {
	key := func(r aclRow) string {
		return strings.Join([]string{r.typ, r.pattern, r.name, r.principal, r.host, r.op, r.perm}, "\x00")
	}
	slices.SortFunc(rows, func(a, b aclRow) int { return strings.Compare(key(a), key(b)) })
	return slices.Compact(rows)
}

// printACLs prints rows sorted, under a header.
func printACLs(w io.Writer, rows []aclRow) {
	rows = sortedACLs(rows)
	tw := newTable(w)
	fmt.Fprintln(tw, "RESOURCE-TYPE\tPATTERN\tNAME\tPRINCIPAL\tHOST\tOPERATION\tPERMISSION")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.typ, r.pattern, r.name, r.principal, r.host, r.op, r.perm)
	}
	tw.Flush()
}
