package cli

// `sluice group`: consumer-group administration. It talks the Kafka
// protocol through franz-go's kadm and uses none of the broker's internal
// packages, so it works the same against Sluice and against any other
// Kafka-compatible broker, and it only ever sees what a client would see.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const groupUsageText = `Usage: sluice group <subcommand> [flags]

Inspect and manage consumer groups over the Kafka protocol.

Subcommands:
  list           list groups with their state and protocol type
  describe       show a group's members, committed offsets and lag
  delete         delete groups that have no members, with their offsets
  reset-offsets  move the committed offsets of a group that has no members

Examples:
  sluice group list --state Stable,Empty
  sluice group describe orders-app
  sluice group reset-offsets orders-app --topic orders --to-earliest --dry-run
  sluice group delete orders-app

Every subcommand takes --brokers host:port[,host:port] (default: $SLUICE_BROKERS,
else 127.0.0.1:9092) and --timeout. Run 'sluice group <subcommand> -h' for
its flags.
`

var groupCommands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"list":          runGroupList,
	"describe":      runGroupDescribe,
	"delete":        runGroupDelete,
	"reset-offsets": runGroupResetOffsets,
}

// runGroup dispatches to a group subcommand. Like Main, no subcommand at
// all is a request for help rather than a mistake.
func runGroup(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, groupUsageText)
		return 0
	}
	run, ok := groupCommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sluice group: unknown subcommand %q\n\n", args[0])
		fmt.Fprint(stderr, groupUsageText)
		return 2
	}
	return run(args[1:], stdout, stderr)
}

// groupStates are the classic group states, as brokers spell them in
// ListGroups and DescribeGroups.
var groupStates = []string{"PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty"}

// ---- shared plumbing ----

// conn holds the flags every subcommand shares.
type conn struct {
	brokers string
	timeout time.Duration
}

// newGroupFlags makes a subcommand's flag set with the shared flags. synopsis
// is the first usage line, for example "describe GROUP".
func newGroupFlags(name, synopsis string, stderr io.Writer) (*flag.FlagSet, *conn) {
	fs := flag.NewFlagSet("group "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sluice group %s [flags]\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	c := &conn{}
	brokers := os.Getenv("SLUICE_BROKERS")
	if brokers == "" {
		brokers = "127.0.0.1:9092"
	}
	fs.StringVar(&c.brokers, "brokers", brokers, "host:port[,host:port] to bootstrap from (env SLUICE_BROKERS)")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "give up if the brokers have not answered within this long")
	return fs, c
}

// parseArgs parses flags wherever they stand among the positional
// arguments, so "describe GROUP --brokers x" works as well as
// "describe --brokers x GROUP": the flag package alone stops at the first
// positional argument. Everything after "--" is positional. ok is false when
// the command must stop with code (0 after -h, 2 after a bad flag).
func parseArgs(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0, false
			}
			return nil, 2, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a mistake in the command line: exit code 2.
func usageError(stderr io.Writer, sub, format string, a ...any) int {
	fmt.Fprintf(stderr, "sluice group %s: %s\nRun 'sluice group %s -h' for usage.\n", sub, fmt.Sprintf(format, a...), sub)
	return 2
}

// failure reports something that went wrong talking to the brokers or that
// they refused: exit code 1.
func failure(stderr io.Writer, sub string, err error) int {
	fmt.Fprintf(stderr, "sluice group %s: %v\n", sub, err)
	return 1
}

// admin connects to the brokers. The returned context bounds the whole
// command: franz-go retries an unreachable broker until its context ends,
// and a person at a terminal would rather get an error than a hang.
func (c *conn) admin() (*kadm.Client, context.Context, func(), error) {
	var seeds []string
	for s := range strings.SplitSeq(c.brokers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		return nil, nil, nil, errors.New("--brokers is empty")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ClientID("sluice-group"))
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	return kadm.NewClient(cl), ctx, func() { cancel(); cl.Close() }, nil
}

// explain turns a refused connection or a deadline into something a person
// can act on; kadm's own wording ("request ListGroups has 1 separate shard
// errors, first: ...") speaks of its internals.
func (c *conn) explain(ctx context.Context, err error) error {
	if op, ok := errors.AsType[*net.OpError](err); ok {
		return fmt.Errorf("cannot reach %s (is a broker running there?): %w", c.brokers, op)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("no answer from %s within %v: %w", c.brokers, c.timeout, err)
	}
	return err
}

// withMessage appends the broker's free-text error message, when it sent one.
func withMessage(err error, msg string) error {
	if err == nil || msg == "" {
		return err
	}
	return fmt.Errorf("%w (%s)", err, msg)
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// dash prints "-" for the absent values the protocol marks with -1.
func dash(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ---- list ----

func runGroupList(args []string, stdout, stderr io.Writer) int {
	fs, c := newGroupFlags("list", "list [--state Stable,Empty,...]", stderr)
	stateFlag := fs.String("state", "", "only groups in these states, comma-separated: "+strings.Join(groupStates, ", "))
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(stderr, "list", "unexpected arguments %q", pos)
	}
	states, err := parseStates(*stateFlag)
	if err != nil {
		return usageError(stderr, "list", "--state: %v", err)
	}
	adm, ctx, done, err := c.admin()
	if err != nil {
		return failure(stderr, "list", err)
	}
	defer done()
	groups, err := adm.ListGroups(ctx, states...)
	if err != nil {
		return failure(stderr, "list", c.explain(ctx, err))
	}
	printGroupList(stdout, groups.Sorted())
	return 0
}

// parseStates accepts states in any letter case, as Kafka's tool does, and
// returns them spelled as brokers compare them.
func parseStates(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		i := slices.IndexFunc(groupStates, func(st string) bool { return strings.EqualFold(st, part) })
		if i < 0 {
			return nil, fmt.Errorf("unknown state %q (want one of %s)", part, strings.Join(groupStates, ", "))
		}
		out = append(out, groupStates[i])
	}
	return out, nil
}

func printGroupList(w io.Writer, groups []kadm.ListedGroup) {
	if len(groups) == 0 {
		fmt.Fprintln(w, "No groups.")
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "GROUP\tSTATE\tPROTOCOL-TYPE")
	for _, g := range groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Group, orDash(g.State), orDash(g.ProtocolType))
	}
	tw.Flush()
}

// ---- describe ----

func runGroupDescribe(args []string, stdout, stderr io.Writer) int {
	fs, c := newGroupFlags("describe", "describe GROUP", stderr)
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "describe", "want exactly one GROUP, got %d arguments", len(pos))
	}
	group := pos[0]
	adm, ctx, done, err := c.admin()
	if err != nil {
		return failure(stderr, "describe", err)
	}
	defer done()
	d, rows, err := gatherDescription(ctx, adm, group)
	if err != nil {
		return failure(stderr, "describe", c.explain(ctx, err))
	}
	if d.State == "Dead" && len(rows) == 0 {
		return failure(stderr, "describe", fmt.Errorf("group %q does not exist (state Dead, no committed offsets)", group))
	}
	printDescription(stdout, d, rows)
	for _, r := range rows {
		if r.err != nil {
			return failure(stderr, "describe", fmt.Errorf("%s/%d: %w", r.topic, r.partition, r.err))
		}
	}
	return 0
}

// partRow is one partition in describe's table.
type partRow struct {
	topic     string
	partition int32
	committed int64 // -1: nothing committed
	end       int64 // -1: unknown
	owner     string
	err       error // from OffsetFetch or ListOffsets, for this partition
}

// gatherDescription asks for the group, its commits and the log ends of
// every partition it owns or committed to.
func gatherDescription(ctx context.Context, adm *kadm.Client, group string) (kadm.DescribedGroup, []partRow, error) {
	d, err := describeGroup(ctx, adm, group)
	if err != nil {
		return d, nil, err
	}
	commits, err := fetchCommits(ctx, adm, group)
	if err != nil {
		return d, nil, err
	}
	rows := partitionRows(d, commits)
	if err := fillLogEnds(ctx, adm, rows); err != nil {
		return d, nil, err
	}
	return d, rows, nil
}

// describeGroup describes one group. Brokers answer for an unknown group
// either with state Dead (Kafka before 4.0) or with GROUP_ID_NOT_FOUND
// (DescribeGroups v6+); both mean the same to a person, so both come back
// as Dead.
func describeGroup(ctx context.Context, adm *kadm.Client, group string) (kadm.DescribedGroup, error) {
	ds, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return kadm.DescribedGroup{}, err
	}
	d, ok := ds[group]
	if !ok {
		return d, fmt.Errorf("the broker's DescribeGroups answer does not mention group %q", group)
	}
	if errors.Is(d.Err, kerr.GroupIDNotFound) {
		d.State, d.Err = "Dead", nil
	}
	if d.Err != nil {
		return d, fmt.Errorf("group %q: %w", group, withMessage(d.Err, d.ErrMessage))
	}
	return d, nil
}

// fetchCommits returns the group's committed offsets; an unknown group has
// none (newer brokers say GROUP_ID_NOT_FOUND, older ones answer empty).
func fetchCommits(ctx context.Context, adm *kadm.Client, group string) (kadm.OffsetResponses, error) {
	commits, err := adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fetch committed offsets of %q: %w", group, err)
	}
	return commits, nil
}

// partitionRows joins the members' assignments with the commits: a
// partition shows up if someone owns it or the group committed to it.
func partitionRows(d kadm.DescribedGroup, commits kadm.OffsetResponses) []partRow {
	type tp struct {
		t string
		p int32
	}
	byTP := map[tp]*partRow{}
	row := func(t string, p int32) *partRow {
		r := byTP[tp{t, p}]
		if r == nil {
			r = &partRow{topic: t, partition: p, committed: -1, end: -1}
			byTP[tp{t, p}] = r
		}
		return r
	}
	for _, m := range d.Members {
		if a, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range a.Topics {
				for _, p := range t.Partitions {
					row(t.Topic, p).owner = m.MemberID
				}
			}
		}
	}
	commits.Each(func(o kadm.OffsetResponse) {
		r := row(o.Topic, o.Partition)
		r.committed, r.err = o.At, o.Err
	})
	rows := make([]partRow, 0, len(byTP))
	for _, r := range byTP {
		rows = append(rows, *r)
	}
	slices.SortFunc(rows, func(a, b partRow) int {
		if c := strings.Compare(a.topic, b.topic); c != 0 {
			return c
		}
		return int(a.partition) - int(b.partition)
	})
	return rows
}

// fillLogEnds sets each row's log end offset (the high watermark).
func fillLogEnds(ctx context.Context, adm *kadm.Client, rows []partRow) error {
	var topics []string
	for _, r := range rows {
		if !slices.Contains(topics, r.topic) {
			topics = append(topics, r.topic)
		}
	}
	if len(topics) == 0 {
		return nil
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return fmt.Errorf("list log end offsets: %w", err)
	}
	for i := range rows {
		r := &rows[i]
		e, ok := ends.Lookup(r.topic, r.partition)
		if !ok {
			e, ok = ends.Lookup(r.topic, -1) // kadm's marker for a topic the broker does not know
		}
		switch {
		case !ok:
			r.err = cmpErr(r.err, errors.New("the broker did not list this partition's log end offset"))
		case e.Err != nil:
			r.err = cmpErr(r.err, e.Err)
		default:
			r.end = e.Offset
		}
	}
	return nil
}

// cmpErr keeps the first error.
func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

func printDescription(w io.Writer, d kadm.DescribedGroup, rows []partRow) {
	printGroupHeader(w, d)
	fmt.Fprintln(w)
	printMembers(w, d.Members)
	fmt.Fprintln(w)
	printPartitions(w, rows)
}

func printGroupHeader(w io.Writer, d kadm.DescribedGroup) {
	tw := newTable(w)
	fmt.Fprintf(tw, "Group:\t%s\n", d.Group)
	fmt.Fprintf(tw, "State:\t%s\n", orDash(d.State))
	fmt.Fprintf(tw, "Protocol type:\t%s\n", orDash(d.ProtocolType))
	fmt.Fprintf(tw, "Protocol:\t%s\n", orDash(d.Protocol))
	if d.Coordinator.Host != "" {
		fmt.Fprintf(tw, "Coordinator:\t%d (%s:%d)\n", d.Coordinator.NodeID, d.Coordinator.Host, d.Coordinator.Port)
	}
	fmt.Fprintf(tw, "Members:\t%d\n", len(d.Members))
	tw.Flush()
}

func printMembers(w io.Writer, members []kadm.DescribedGroupMember) {
	if len(members) == 0 {
		fmt.Fprintln(w, "No active members.")
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "MEMBER-ID\tINSTANCE-ID\tCLIENT-ID\tHOST\tASSIGNMENT")
	for _, m := range members {
		instance := "-"
		if m.InstanceID != nil {
			instance = *m.InstanceID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.MemberID, instance, orDash(m.ClientID), orDash(m.ClientHost), assignment(m))
	}
	tw.Flush()
}

// assignment renders a consumer member's partitions as "topic:0,1 other:2";
// "-" when it has none or its group does not speak the consumer protocol.
func assignment(m kadm.DescribedGroupMember) string {
	a, ok := m.Assigned.AsConsumer()
	if !ok {
		return "-"
	}
	var parts []string
	for _, t := range a.Topics {
		ps := slices.Clone(t.Partitions)
		slices.Sort(ps)
		nums := make([]string, len(ps))
		for i, p := range ps {
			nums[i] = strconv.Itoa(int(p))
		}
		parts = append(parts, t.Topic+":"+strings.Join(nums, ","))
	}
	slices.Sort(parts)
	return orDash(strings.Join(parts, " "))
}

func printPartitions(w io.Writer, rows []partRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "No committed offsets and no assigned partitions.")
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCOMMITTED\tLOG-END\tLAG\tMEMBER")
	for _, r := range rows {
		lag := int64(-1)
		if r.committed >= 0 && r.end >= 0 {
			lag = r.end - r.committed
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", r.topic, r.partition, dash(r.committed), dash(r.end), dash(lag), orDash(r.owner))
	}
	tw.Flush()
}

// ---- delete ----

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

// ---- reset-offsets ----

// resetSpec is what reset-offsets was asked to do.
type resetSpec struct {
	group      string
	topic      string
	partitions []int32 // nil: every partition of topic
	to         string  // earliest, latest, offset or timestamp
	offset     int64   // for to == "offset"
	millis     int64   // for to == "timestamp"
	dryRun     bool
}

// resetRow is one partition's move.
type resetRow struct {
	partition int32
	old       int64 // -1: nothing committed
	new       int64
	clamped   bool // --to-offset was outside the log
}

func runGroupResetOffsets(args []string, stdout, stderr io.Writer) int {
	fs, c := newGroupFlags("reset-offsets",
		"reset-offsets GROUP --topic T [--partitions 0,1] (--to-earliest | --to-latest | --to-offset N | --to-timestamp MILLIS|RFC3339) [--dry-run]", stderr)
	topic := fs.String("topic", "", "topic whose offsets to reset (required)")
	partitions := fs.String("partitions", "", "comma-separated partitions (default: all of --topic)")
	earliest := fs.Bool("to-earliest", false, "reset to the log start offset")
	latest := fs.Bool("to-latest", false, "reset to the log end offset")
	offset := fs.String("to-offset", "", "reset to this offset, clamped into [log start, log end]")
	timestamp := fs.String("to-timestamp", "", "reset to the first record at or after this time: Unix milliseconds or RFC3339")
	dryRun := fs.Bool("dry-run", false, "print the new offsets without committing them")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	spec, err := buildResetSpec(pos, *topic, *partitions, *earliest, *latest, *offset, *timestamp)
	if err != nil {
		return usageError(stderr, "reset-offsets", "%v", err)
	}
	spec.dryRun = *dryRun
	adm, ctx, done, err := c.admin()
	if err != nil {
		return failure(stderr, "reset-offsets", err)
	}
	defer done()
	if err := resetOffsets(ctx, adm, spec, stdout); err != nil {
		return failure(stderr, "reset-offsets", c.explain(ctx, err))
	}
	return 0
}

// buildResetSpec checks the command line; its errors are usage errors.
func buildResetSpec(pos []string, topic, partitions string, earliest, latest bool, offset, timestamp string) (resetSpec, error) {
	var s resetSpec
	if len(pos) != 1 {
		return s, fmt.Errorf("want exactly one GROUP, got %d arguments", len(pos))
	}
	if topic == "" {
		return s, errors.New("--topic is required")
	}
	s.group, s.topic = pos[0], topic
	var err error
	if s.partitions, err = parsePartitions(partitions); err != nil {
		return s, fmt.Errorf("--partitions: %v", err)
	}
	var chosen []string
	if earliest {
		chosen, s.to = append(chosen, "--to-earliest"), "earliest"
	}
	if latest {
		chosen, s.to = append(chosen, "--to-latest"), "latest"
	}
	if offset != "" {
		chosen, s.to = append(chosen, "--to-offset"), "offset"
		if s.offset, err = strconv.ParseInt(offset, 10, 64); err != nil {
			return s, fmt.Errorf("--to-offset %q is not an integer", offset)
		}
	}
	if timestamp != "" {
		chosen, s.to = append(chosen, "--to-timestamp"), "timestamp"
		if s.millis, err = parseTimestamp(timestamp); err != nil {
			return s, fmt.Errorf("--to-timestamp: %v", err)
		}
	}
	if len(chosen) != 1 {
		return s, fmt.Errorf("give exactly one of --to-earliest, --to-latest, --to-offset, --to-timestamp (got %d)", len(chosen))
	}
	return s, nil
}

// parsePartitions reads "0,1,2"; "" means every partition.
func parsePartitions(s string) ([]int32, error) {
	if s == "" {
		return nil, nil
	}
	var out []int32
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 32)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a partition number", part)
		}
		if !slices.Contains(out, int32(n)) {
			out = append(out, int32(n))
		}
	}
	slices.Sort(out)
	return out, nil
}

// parseTimestamp takes Unix milliseconds or an RFC3339 time. Negative
// milliseconds are refused: ListOffsets reads them as "earliest"/"latest".
func parseTimestamp(s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms < 0 {
			return 0, fmt.Errorf("%d is before 1970", ms)
		}
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither Unix milliseconds nor RFC3339 (2006-01-02T15:04:05Z)", s)
	}
	if t.UnixMilli() < 0 {
		return 0, fmt.Errorf("%s is before 1970", s)
	}
	return t.UnixMilli(), nil
}

// resetOffsets checks the group is idle, works out the new offsets, prints
// them and commits them unless this is a dry run.
func resetOffsets(ctx context.Context, adm *kadm.Client, s resetSpec, w io.Writer) error {
	if err := requireIdle(ctx, adm, s.group); err != nil {
		return err
	}
	rows, err := planReset(ctx, adm, s)
	if err != nil {
		return err
	}
	printReset(w, s, rows)
	if s.dryRun {
		fmt.Fprintln(w, "Dry run: nothing committed.")
		return nil
	}
	if err := commitReset(ctx, adm, s, rows); err != nil {
		return err
	}
	fmt.Fprintf(w, "Committed %d offsets for group %q.\n", len(rows), s.group)
	return nil
}

// requireIdle refuses groups with members, as Kafka's tool does: a running
// consumer would overwrite the reset with its next commit, or keep reading
// from where it was. Between this check and the commit a consumer could
// still join; the broker closes that gap by refusing a memberless commit to
// a group that has members.
func requireIdle(ctx context.Context, adm *kadm.Client, group string) error {
	d, err := describeGroup(ctx, adm, group)
	if err != nil {
		return err
	}
	if d.State == "Empty" || d.State == "Dead" {
		return nil
	}
	return fmt.Errorf("group %q is %s with %d member(s); offsets can only be reset while it has none (stop its consumers first)",
		group, orDash(d.State), len(d.Members))
}

// planReset computes old and new offsets for the chosen partitions.
func planReset(ctx context.Context, adm *kadm.Client, s resetSpec) ([]resetRow, error) {
	starts, err := listTopicOffsets(ctx, adm, s.topic, adm.ListStartOffsets)
	if err != nil {
		return nil, err
	}
	ends, err := listTopicOffsets(ctx, adm, s.topic, adm.ListEndOffsets)
	if err != nil {
		return nil, err
	}
	parts, err := choosePartitions(s, ends)
	if err != nil {
		return nil, err
	}
	var byTime map[int32]int64
	if s.to == "timestamp" {
		after := func(ctx context.Context, topics ...string) (kadm.ListedOffsets, error) {
			return adm.ListOffsetsAfterMilli(ctx, s.millis, topics...)
		}
		if byTime, err = listTopicOffsets(ctx, adm, s.topic, after); err != nil {
			return nil, err
		}
	}
	commits, err := fetchCommits(ctx, adm, s.group)
	if err != nil {
		return nil, err
	}
	rows := make([]resetRow, len(parts))
	for i, p := range parts {
		rows[i] = targetFor(s, p, starts[p], ends[p], byTime[p])
		if o, ok := commits.Lookup(s.topic, p); ok && o.Err == nil {
			rows[i].old = o.At
		}
	}
	return rows, nil
}

// listTopicOffsets runs one of kadm's List*Offsets for a single topic and
// returns offset by partition, failing on any partition's error.
func listTopicOffsets(ctx context.Context, adm *kadm.Client, topic string,
	list func(context.Context, ...string) (kadm.ListedOffsets, error)) (map[int32]int64, error) {
	listed, err := list(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("list offsets of %q: %w", topic, err)
	}
	out := map[int32]int64{}
	for p, o := range listed[topic] {
		if o.Err != nil {
			if p < 0 {
				return nil, fmt.Errorf("topic %q: %w", topic, o.Err)
			}
			return nil, fmt.Errorf("list offsets of %s/%d: %w", topic, p, o.Err)
		}
		out[p] = o.Offset
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("topic %q: the broker listed no partitions", topic)
	}
	return out, nil
}

// choosePartitions returns the partitions asked for, or all of the topic's.
func choosePartitions(s resetSpec, ends map[int32]int64) ([]int32, error) {
	if s.partitions == nil {
		all := make([]int32, 0, len(ends))
		for p := range ends {
			all = append(all, p)
		}
		slices.Sort(all)
		return all, nil
	}
	for _, p := range s.partitions {
		if _, ok := ends[p]; !ok {
			return nil, fmt.Errorf("topic %q has no partition %d (it has %d)", s.topic, p, len(ends))
		}
	}
	return s.partitions, nil
}

// targetFor picks one partition's new offset. An explicit offset is clamped
// into [start, end], since a commit outside the log would make the consumer
// fall back to its reset policy rather than start where it was told.
func targetFor(s resetSpec, p int32, start, end, byTime int64) resetRow {
	r := resetRow{partition: p, old: -1}
	switch s.to {
	case "earliest":
		r.new = start
	case "latest":
		r.new = end
	case "timestamp":
		r.new = byTime
	case "offset":
		r.new = min(max(s.offset, start), end)
		r.clamped = r.new != s.offset
	}
	return r
}

func printReset(w io.Writer, s resetSpec, rows []resetRow) {
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tOLD\tNEW")
	for _, r := range rows {
		note := ""
		if r.clamped {
			note = fmt.Sprintf("  (%d is outside the log; clamped)", s.offset)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d%s\n", s.topic, r.partition, dash(r.old), r.new, note)
	}
	tw.Flush()
}

// commitReset commits the new offsets as a "simple" commit (generation -1,
// no member id), which brokers accept only for groups with no members.
func commitReset(ctx context.Context, adm *kadm.Client, s resetSpec, rows []resetRow) error {
	offsets := kadm.Offsets{}
	for _, r := range rows {
		offsets.Add(kadm.Offset{Topic: s.topic, Partition: r.partition, At: r.new, LeaderEpoch: -1})
	}
	rs, err := adm.CommitOffsets(ctx, s.group, offsets)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	var errs []error
	for _, o := range rs.Sorted() {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("commit %s/%d: %w", o.Topic, o.Partition, o.Err))
		}
	}
	return errors.Join(errs...)
}
