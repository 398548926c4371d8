package check

// Scenario scripts (testdata/*.txt) are hand-made histories, one op a
// line in the form history.Op.String prints, followed by what the
// checker must say about them:
//
//	p1 send t/0 a ok@0          process 1 sent a to t/0, acknowledged at offset 0
//	p2 poll rc t/0 0=a 1=b      a read_committed poll returned offsets 0 and 1 (rc: else read_uncommitted)
//	p2 commit t/0@2 group=g ok  a group's offset commit
//	check                       prints every finding and the ops that prove it
//	verdict                     prints each guarantee's verdict
//	reset                       starts a new history
//
// Options: group=, txn=, at=MS (the op's time in ms; by default 1 ms
// after the previous op's).

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sluice/internal/scripttest"
	"sluice/internal/verify/history"
)

func TestScripts(t *testing.T) {
	scripttest.RunDir(t, "testdata", func(t *testing.T) scripttest.Runner {
		s := &scenario{}
		return func(where, line string) []string {
			out, err := s.run(line)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			return out
		}
	})
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type scenario struct {
	ops []history.Op
	ms  int
}

func (s *scenario) run(line string) ([]string, error) {
	switch strings.TrimSpace(line) {
	case "check":
		return printFindings(Check(s.ops)), nil
	case "verdict":
		return printVerdicts(Check(s.ops)), nil
	case "reset":
		*s = scenario{}
		return nil, nil
	}
	op, err := s.parseOp(strings.Fields(line))
	if err != nil {
		return nil, err
	}
	s.ops = append(s.ops, op)
	return nil, nil
}

func printFindings(r Result) []string {
	if len(r.Findings) == 0 {
		return []string{"no findings"}
	}
	var out []string
	for _, f := range r.Findings {
		out = append(out, fmt.Sprintf("%s: %s", f.Anomaly, f.Summary))
		for _, e := range f.Evidence {
			out = append(out, fmt.Sprintf("#%d %s: %s", e.Index, e.Role, e.Op))
		}
	}
	return out
}

func printVerdicts(r Result) []string {
	var out []string
	for _, g := range Guarantees {
		v := Judge(r, g)
		line := string(g) + ": holds"
		if !v.Holds {
			line = string(g) + ": VIOLATED by" + counts(v.Violations)
		}
		if len(v.Counted) > 0 {
			line += "; counted" + counts(v.Counted)
		}
		out = append(out, line)
	}
	return out
}

func counts(cs []AnomalyCount) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, " %s=%d", c.Anomaly, c.Count)
	}
	return b.String()
}

var (
	procRE    = regexp.MustCompile(`^p(\d+)$`)
	outcomeRE = regexp.MustCompile(`^(ok|fail|info)(?:@(\d+))?$`)
	tpRE      = regexp.MustCompile(`^([^/=@]+)/(\d+)(?:@(\d+))?$`)
	recordRE  = regexp.MustCompile(`^(\d+)=(.+)$`)
)

// parseOp reads one op in history.Op.String's form.
func (s *scenario) parseOp(tok []string) (history.Op, error) {
	m := procRE.FindStringSubmatch(tok[0])
	if m == nil || len(tok) < 2 {
		return history.Op{}, fmt.Errorf("not a command or an op: %q", strings.Join(tok, " "))
	}
	p, _ := strconv.Atoi(m[1])
	op := history.Op{Process: p, Kind: history.Kind(tok[1])}
	if op.Kind == history.Poll {
		op.Isolation = history.ReadUncommitted
	}
	s.ms++
	var tp history.TopicPartition
	for _, t := range tok[2:] {
		if err := s.parseToken(&op, &tp, t); err != nil {
			return history.Op{}, fmt.Errorf("%q: %v", t, err)
		}
	}
	op.Time = t0.Add(time.Duration(s.ms) * time.Millisecond)
	return op, op.Validate()
}

func (s *scenario) parseToken(op *history.Op, tp *history.TopicPartition, t string) error {
	if name, value, ok := strings.Cut(t, "="); ok && !recordRE.MatchString(t) {
		return s.parseOption(op, name, value)
	}
	if t == "rc" {
		op.Isolation = history.ReadCommitted
		return nil
	}
	if m := outcomeRE.FindStringSubmatch(t); m != nil {
		op.Outcome = history.Outcome(m[1])
		if op.Kind == history.Send {
			op.Record.Offset = history.NoOffset
			if m[2] != "" {
				op.Record.Offset, _ = strconv.ParseInt(m[2], 10, 64)
			}
		}
		return nil
	}
	if m := tpRE.FindStringSubmatch(t); m != nil {
		return parsePartition(op, tp, m)
	}
	if m := recordRE.FindStringSubmatch(t); m != nil && op.Kind == history.Poll {
		off, _ := strconv.ParseInt(m[1], 10, 64)
		op.Records = append(op.Records, history.Record{Topic: tp.Topic, Partition: tp.Partition, Offset: off, Value: m[2]})
		return nil
	}
	switch op.Kind {
	case history.Send:
		op.Record.Value = t
	case history.Fault:
		op.Fault = t
	default:
		return fmt.Errorf("unexpected in a %s", op.Kind)
	}
	return nil
}

func parsePartition(op *history.Op, tp *history.TopicPartition, m []string) error {
	n, _ := strconv.Atoi(m[2])
	*tp = history.TopicPartition{Topic: m[1], Partition: int32(n)}
	switch op.Kind {
	case history.Send:
		op.Record = &history.Record{Topic: tp.Topic, Partition: tp.Partition, Offset: history.NoOffset}
	case history.Commit:
		off, _ := strconv.ParseInt(m[3], 10, 64)
		op.Offsets = append(op.Offsets, history.Position{Topic: tp.Topic, Partition: tp.Partition, Offset: off})
	case history.Assign, history.Revoke:
		op.Partitions = append(op.Partitions, *tp)
	}
	return nil
}

func (s *scenario) parseOption(op *history.Op, name, value string) error {
	switch name {
	case "group":
		op.Group = value
	case "txn":
		op.Txn = value
	case "error":
		op.Error = value
	case "at":
		ms, err := strconv.Atoi(value)
		s.ms = ms
		return err
	default:
		return fmt.Errorf("unknown option %s", name)
	}
	return nil
}
