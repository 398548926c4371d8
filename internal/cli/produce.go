package cli

// `sluice produce`: records from lines of files or stdin, written with the
// client settings of the delivery guarantee asked for (guarantee.go).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const produceUsageText = `Usage: sluice produce --topic T [--guarantee G] [--format text|kv|json] [FILE...]

Write one record per line of the FILEs, or of stdin when there are none
("-" is stdin too), then print how many records were delivered.

Formats: text, the line is the value; kv, key and value split at the first
--separator; json, {"key": ..., "value": ..., "headers": [{"key": ...,
"value": ...}], "timestamp": MILLIS}, as 'sluice consume --format json'
prints it.

Guarantees and the producer settings they use:
  at-most-once   acks=0, retries=0: a record may be lost, never written twice
  at-least-once  acks=all, retries, enable.idempotence=true (the default)
  exactly-once   transactional.id=--transactional-id, --txn-records records
                 per transaction; read_committed consumers see whole
                 transactions only

Exit status: 0 when every record was delivered (for at-most-once: sent),
1 when the brokers refused or could not be reached, or a line does not
parse (the records before it are delivered), 2 for a bad command line,
130 when interrupted (the records read until then are delivered).

Flags:
`

// produceSpec is what produce was asked to do.
type produceSpec struct {
	topic     string
	g         guarantee
	txnID     string
	perTxn    int
	partition int32 // -1: by key
	in        *recordInput
}

func runProduce(args []string, stdout, stderr io.Writer) int {
	fs, c := newClientFlags("produce", "", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, produceUsageText); fs.PrintDefaults() }
	topic := fs.String("topic", "", "topic to write to (required)")
	g := fs.String("guarantee", string(atLeastOnce), "at-most-once, at-least-once or exactly-once")
	format := fs.String("format", "text", "text, kv or json")
	sep := fs.String("separator", `\t`, `with --format kv: what separates key and value (\t is a tab)`)
	partition := fs.Int("partition", -1, "write every record to this partition; -1: by key, keyless records spread")
	txnID := fs.String("transactional-id", "", "with exactly-once: the producer's transactional.id (required)")
	perTxn := fs.Int("txn-records", 1000, "with exactly-once: records per transaction")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	s, err := buildProduceSpec(*topic, *g, *format, *sep, *partition, *txnID, *perTxn, files)
	if err != nil {
		return cmdUsageError(stderr, "produce", "%v", err)
	}
	return produce(c, s, stdout, stderr)
}

func buildProduceSpec(topic, g, format, sep string, partition int, txnID string, perTxn int, files []string) (produceSpec, error) {
	s := produceSpec{topic: topic, txnID: txnID, perTxn: perTxn, partition: int32(partition)}
	var err error
	if s.g, err = parseGuarantee(g); err != nil {
		return s, err
	}
	switch {
	case topic == "":
		return s, errors.New("--topic is required")
	case !slices.Contains(inputFormats, format):
		return s, fmt.Errorf("--format %q: want one of %s", format, strings.Join(inputFormats, ", "))
	case partition < -1:
		return s, fmt.Errorf("--partition %d: want a partition number", partition)
	case s.g == exactlyOnce && txnID == "":
		return s, errors.New("exactly-once needs --transactional-id: a name for this producer that no other running producer uses")
	case s.g != exactlyOnce && txnID != "":
		return s, errors.New("--transactional-id goes with --guarantee exactly-once")
	case perTxn < 1:
		return s, fmt.Errorf("--txn-records %d: want at least 1", perTxn)
	}
	sepBytes, err := parseSeparator(sep)
	if err != nil {
		return s, err
	}
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, f := range files {
		// Every file is checked before the first record is sent, so a
		// misspelt name does not leave the input half delivered.
		if _, err := os.Stat(f); f != "-" && err != nil {
			return s, err
		}
	}
	s.in = &recordInput{format: format, sep: sepBytes, files: files, stdin: os.Stdin}
	return s, nil
}

func produce(c *conn, s produceSpec, stdout, stderr io.Writer) int {
	opts := append(producerSettings(s.g, s.txnID), kgo.DefaultProduceTopic(s.topic))
	if s.partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	cl, err := c.client("sluice-produce", opts...)
	if err != nil {
		return cmdFailure(stderr, "produce", err)
	}
	defer cl.Close()
	if err := c.checkTopic(cl, s.topic, s.partition); err != nil {
		return cmdFailure(stderr, "produce", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := &producer{cl: cl, s: s, timeout: c.timeout}
	stopProgress := startProgress(stderr, &p.sent)
	start := time.Now()
	err = p.run(ctx)
	stopProgress()
	printProduceSummary(stdout, p, time.Since(start))
	switch {
	case err != nil:
		return cmdFailure(stderr, "produce", c.explainErr(ctx, err))
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "sluice produce: interrupted; the rest of the input was not read")
		return 130
	}
	return 0
}

// checkTopic fails unless the topic exists and, if partition is not -1,
// has that partition.
func (c *conn) checkTopic(cl *kgo.Client, topic string, partition int32) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	n, err := requireTopic(ctx, kadm.NewClient(cl), topic)
	if err != nil {
		return c.explainErr(ctx, err)
	}
	if partition >= int32(n) {
		return fmt.Errorf("topic %q has no partition %d (it has %d)", topic, partition, n)
	}
	return nil
}

func printProduceSummary(w io.Writer, p *producer, elapsed time.Duration) {
	records, bytes := p.sent.records.Load(), p.sent.bytes.Load()
	verb, txns := "Produced", ""
	if p.s.g == atMostOnce {
		verb = "Sent" // acks=0: nothing says the broker has them
	}
	if p.s.g == exactlyOnce {
		txns = " in " + plural(p.txns, "committed transaction")
	}
	fmt.Fprintf(w, "%s %s (%s) to %q%s with %s %s.\n", verb, plural(int(records), "record"), humanBytes(bytes),
		p.s.topic, txns, producerSummary(p.s.g, p.s.txnID), elapsedAndRates(records, bytes, elapsed))
}
