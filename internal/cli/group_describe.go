package cli

// `sluice group describe`: members, committed offsets and lag.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

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
