package cli

// `sluice group reset-offsets`: move the committed offsets of a group that has no members.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

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
