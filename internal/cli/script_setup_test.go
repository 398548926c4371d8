package cli

// The script lines that are not sluice commands: a transactional producer,
// a reader and a SASL login of the test's own, so that what a command
// wrote or should read is set up and checked with plain franz-go, not with
// the commands under test.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"sluice/internal/brokertest"
)

// txn ID TOPIC open|commit VALUE...: a transactional producer writes the
// values to partition 0 of TOPIC in one transaction and leaves it open or
// commits it. The producer lives until the script ends.
func (s *cliScript) txn(where string, args []string) []string {
	if len(args) < 3 || args[2] != "open" && args[2] != "commit" {
		s.t.Fatalf("%s: want txn ID TOPIC open|commit VALUE...", where)
	}
	id, topic := args[0], args[1]
	cl := s.txns[id]
	if cl == nil {
		cl = brokertest.Client(s.t, s.addr, kgo.TransactionalID(id), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		s.txns[id] = cl
	}
	ctx := brokertest.Context(s.t, 30*time.Second)
	if err := cl.BeginTransaction(); err != nil {
		s.t.Fatalf("%s: begin: %v", where, err)
	}
	for _, v := range args[3:] {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			s.t.Fatalf("%s: produce: %v", where, err)
		}
	}
	if args[2] == "commit" {
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			s.t.Fatalf("%s: commit: %v", where, err)
		}
		s.waitTxnState(where, id, "CompleteCommit")
	}
	return nil
}

// waitTxnState polls the coordinator until the id is in state: EndTxn is
// answered once the decision is durable, before the markers are written
// and the transaction is complete, and nothing else tells a client when
// that happens.
func (s *cliScript) waitTxnState(where, id, state string) {
	adm := brokertest.Admin(s.t, s.addr)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err := adm.DescribeTransactions(brokertest.Context(s.t, 30*time.Second), id)
		d := ds[id]
		if err == nil && d.State == state {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: transactional id %s never reached %s: last %q, %v", where, id, state, d.State, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// records TOPIC N [read_committed]: read N records of TOPIC from its start
// (at read_uncommitted unless asked) and print them by partition, each as
// "partition/offset key=... value=... headers=[k=v ...] ts=...", then the
// partitions' high watermarks, which show nothing more was written. Keys
// and values print as Go quoted strings or null; ts is "now" for a
// timestamp within an hour of the test, else Unix milliseconds.
func (s *cliScript) records(where string, args []string) []string {
	if len(args) < 2 || len(args) > 3 || len(args) == 3 && args[2] != "read_committed" {
		s.t.Fatalf("%s: want records TOPIC N [read_committed]", where)
	}
	topic := args[0]
	n, err := strconv.Atoi(args[1])
	if err != nil {
		s.t.Fatalf("%s: %v", where, err)
	}
	opts := []kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	if len(args) == 3 {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl := brokertest.Client(s.t, s.addr, opts...)
	ctx := brokertest.Context(s.t, 30*time.Second)
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollRecords(ctx, n-len(recs))
		if ctx.Err() != nil {
			s.t.Fatalf("%s: read %d of %d records", where, len(recs), n)
		}
		fs.EachError(func(t string, p int32, err error) { s.t.Fatalf("%s: fetch %s/%d: %v", where, t, p, err) })
		recs = append(recs, fs.Records()...)
	}
	slices.SortStableFunc(recs, func(a, b *kgo.Record) int { return int(a.Partition - b.Partition) })
	var out []string
	for _, r := range recs {
		out = append(out, formatTestRecord(r))
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		s.t.Fatalf("%s: %v", where, err)
	}
	var hws []string
	ends.Each(func(o kadm.ListedOffset) {
		hws = append(hws, fmt.Sprintf("%d/%d", o.Partition, o.Offset))
	})
	slices.Sort(hws)
	return append(out, "high watermarks "+strings.Join(hws, " "))
}

func formatTestRecord(r *kgo.Record) string {
	quote := func(b []byte) string {
		if b == nil {
			return "null"
		}
		return strconv.Quote(string(b))
	}
	var hs []string
	for _, h := range r.Headers {
		hs = append(hs, h.Key+"="+strconv.Quote(string(h.Value)))
	}
	ts := strconv.FormatInt(r.Timestamp.UnixMilli(), 10)
	if d := time.Since(r.Timestamp); d < time.Hour && d > -time.Hour {
		ts = "now"
	}
	return fmt.Sprintf("%d/%d key=%s value=%s headers=[%s] ts=%s", r.Partition, r.Offset, quote(r.Key), quote(r.Value), strings.Join(hs, " "), ts)
}

// write FILE [TEXT...]: writes the words of TEXT, joined by spaces, as one
// line to FILE (a password file, a command's stdin); without TEXT, FILE is
// empty.
func (s *cliScript) write(where string, args []string) []string {
	if len(args) < 1 {
		s.t.Fatalf("%s: want write FILE [TEXT...]", where)
	}
	text := ""
	if len(args) > 1 {
		text = strings.Join(args[1:], " ") + "\n"
	}
	s.writeFile(args[0], text)
	return nil
}

// auth MECHANISM USER PASSWORD: logs in to the broker with franz-go's
// SASL and asks for the topics, and prints "authenticated" or what the
// broker answered.
func (s *cliScript) authenticate(where string, args []string) []string {
	if len(args) != 3 {
		s.t.Fatalf("%s: want auth MECHANISM USER PASSWORD", where)
	}
	var m sasl.Mechanism
	switch args[0] {
	case "PLAIN":
		m = plain.Auth{User: args[1], Pass: args[2]}.AsMechanism()
	case "SCRAM-SHA-256":
		m = scram.Auth{User: args[1], Pass: args[2]}.AsSha256Mechanism()
	case "SCRAM-SHA-512":
		m = scram.Auth{User: args[1], Pass: args[2]}.AsSha512Mechanism()
	default:
		s.t.Fatalf("%s: unknown mechanism %q", where, args[0])
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr), kgo.SASL(m), kgo.RequestRetries(0))
	if err != nil {
		s.t.Fatal(err)
	}
	defer cl.Close()
	_, err = kadm.NewClient(cl).ListTopics(brokertest.Context(s.t, 10*time.Second))
	if err != nil {
		var ke *kerr.Error
		if errors.As(err, &ke) {
			return []string{"refused: " + ke.Message}
		}
		return []string{"refused: " + err.Error()}
	}
	return []string{"authenticated"}
}
