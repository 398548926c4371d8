package cli

// `sluice consume`: print a topic's records, committing a group's offsets
// when the delivery guarantee asked for needs them committed
// (guarantee.go), or copy them to another topic exactly once.

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const consumeUsageText = `Usage: sluice consume --topic T [--group G] [--guarantee G] [--from WHERE] [--max N] [--format text|kv|json]
       sluice consume --topic T --group G --guarantee exactly-once --to OUT --transactional-id ID

Print the records of a topic, one a line, until --max records or an
interrupt. With --group, the group's committed offsets say where to resume
(--from applies to partitions it never committed) and the command commits
what it hands out, when its guarantee says:

  at-most-once   commit, then print: a record is never printed twice, and
                 one committed but not yet printed at a crash is lost
  at-least-once  print, then commit: nothing is lost, and what was printed
                 after the last commit is printed again after a crash
                 (the default)
  exactly-once   read_committed (only committed transactions' records),
                 print, then commit; with --to OUT, copy the records to OUT
                 in transactions that also commit the group's offsets, so
                 each record is in OUT exactly once whatever crashes

A poll hands out at most 500 records (Kafka's max.poll.records), so that
is the most a crash loses (at-most-once) or repeats (at-least-once).

Without --group nothing is committed: the guarantee only chooses
read_committed (exactly-once) or not.

--from: beginning, end, an offset (the same for every partition), an
RFC3339 time, or a duration before now (15m).

Formats: text, the value; kv, key, --separator, value; json, {"topic",
"partition", "offset", "timestamp", "key", "value", "headers"}, what
'sluice produce --format json' reads.

Exit status: 0 after --max records or an interrupt, 1 when the brokers
refused or could not be reached, 2 for a bad command line.

Flags:
`

// consumeSpec is what consume was asked to do.
type consumeSpec struct {
	topic   string
	group   string
	g       guarantee
	from    kgo.Offset
	max     int // 0: no limit
	format  string
	sep     []byte
	to      string // exactly-once copy target
	txnID   string
	session time.Duration
}

func runConsume(args []string, stdout, stderr io.Writer) int {
	fs, c := newClientFlags("consume", "", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, consumeUsageText); fs.PrintDefaults() }
	topic := fs.String("topic", "", "topic to read (required)")
	group := fs.String("group", "", "consumer group to read in, committing its offsets")
	g := fs.String("guarantee", string(atLeastOnce), "at-most-once, at-least-once or exactly-once")
	from := fs.String("from", "beginning", "where to start without a committed offset: beginning, end, OFFSET, RFC3339 time or a duration ago")
	max := fs.Int("max", 0, "stop after this many records; 0: run until interrupted")
	format := fs.String("format", "text", "text, kv or json")
	sep := fs.String("separator", `\t`, `with --format kv: what separates key and value (\t is a tab)`)
	to := fs.String("to", "", "with exactly-once and --group: copy the records to this topic instead of printing them")
	txnID := fs.String("transactional-id", "", "with --to: the copy's transactional.id (required)")
	session := fs.Duration("session-timeout", 45*time.Second, "with --group: session.timeout.ms, how long the group waits for a member that stopped without leaving (killed) before it hands its partitions to others")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return cmdUsageError(stderr, "consume", "unexpected arguments %q", pos)
	}
	s, err := buildConsumeSpec(*topic, *group, *g, *from, *max, *format, *sep, *to, *txnID, time.Now())
	if err != nil {
		return cmdUsageError(stderr, "consume", "%v", err)
	}
	s.session = *session
	if s.to != "" {
		return copyExactlyOnce(c, s, stdout, stderr)
	}
	return consume(c, s, stdout, stderr)
}

func buildConsumeSpec(topic, group, g, from string, max int, format, sep, to, txnID string, now time.Time) (consumeSpec, error) {
	s := consumeSpec{topic: topic, group: group, max: max, format: format, to: to, txnID: txnID}
	var err error
	if s.g, err = parseGuarantee(g); err != nil {
		return s, err
	}
	if s.from, err = parseFrom(from, now); err != nil {
		return s, err
	}
	if s.sep, err = parseSeparator(sep); err != nil {
		return s, err
	}
	switch {
	case topic == "":
		return s, errors.New("--topic is required")
	case max < 0:
		return s, fmt.Errorf("--max %d: want 0 or more", max)
	case !slices.Contains(outputFormats, format):
		return s, fmt.Errorf("--format %q: want one of %s", format, strings.Join(outputFormats, ", "))
	case to == "" && txnID != "":
		return s, errors.New("--transactional-id goes with --to")
	case to != "" && (s.g != exactlyOnce || group == "" || txnID == ""):
		return s, errors.New("--to copies exactly once: it needs --guarantee exactly-once, --group and --transactional-id")
	case to == topic:
		return s, errors.New("--to names the topic being read")
	}
	return s, nil
}

// parseFrom reads --from. A plain number is an offset; a time is RFC3339
// or a duration before now.
func parseFrom(s string, now time.Time) (kgo.Offset, error) {
	switch s {
	case "beginning":
		return kgo.NewOffset().AtStart(), nil
	case "end":
		return kgo.NewOffset().AtEnd(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return kgo.Offset{}, fmt.Errorf("--from %d: an offset is 0 or more", n)
		}
		return kgo.NewOffset().At(n), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return kgo.NewOffset().AfterMilli(t.UnixMilli()), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return kgo.NewOffset().AfterMilli(now.Add(-d).UnixMilli()), nil
	}
	return kgo.Offset{}, fmt.Errorf("--from %q: want beginning, end, an offset, an RFC3339 time (2006-01-02T15:04:05Z) or a duration before now (15m)", s)
}
