package cli

// `sluice txn describe` and `sluice txn describe-producers`.

import (
	"context"
	"errors"
	"fmt"
	"github.com/twmb/franz-go/pkg/kgo"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func runTxnDescribe(args []string, stdout, stderr io.Writer) int {
	const name = "txn describe"
	fs, c := newClientFlags(name, name+" TRANSACTIONAL-ID", stderr)
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return cmdUsageError(stderr, name, "want exactly one TRANSACTIONAL-ID, got %d arguments", len(pos))
	}
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		d, err := describeTxn(ctx, adm, pos[0])
		if err == nil {
			printTxn(stdout, d)
		}
		return err
	})
}

// describeTxn asks the id's coordinator about it. A coordinator that never
// heard of the id answers TRANSACTIONAL_ID_NOT_FOUND (Kafka 3.0+) or state
// Dead; both mean the same to a person.
func describeTxn(ctx context.Context, adm *kadm.Client, id string) (kadm.DescribedTransaction, error) {
	ds, err := adm.DescribeTransactions(ctx, id)
	var d kadm.DescribedTransaction
	if err == nil {
		d, err = ds.On(id, nil)
	}
	if err == nil {
		err = d.Err
	}
	if errors.Is(err, kerr.TransactionalIDNotFound) || err == nil && d.State == "Dead" {
		return d, fmt.Errorf("transactional id %q is unknown to its coordinator ('sluice txn list' lists the known ones)", id)
	}
	if err != nil {
		return d, fmt.Errorf("transactional id %q: %w", id, advise(err))
	}
	return d, nil
}

func printTxn(w io.Writer, d kadm.DescribedTransaction) {
	tw := newTable(w)
	fmt.Fprintf(tw, "Transactional ID:\t%s\n", d.TxnID)
	fmt.Fprintf(tw, "State:\t%s\n", d.State)
	fmt.Fprintf(tw, "Producer ID:\t%d\n", d.ProducerID)
	fmt.Fprintf(tw, "Producer epoch:\t%d\n", d.ProducerEpoch)
	fmt.Fprintf(tw, "Timeout:\t%v\n", time.Duration(d.TimeoutMillis)*time.Millisecond)
	if d.StartTimestamp >= 0 {
		fmt.Fprintf(tw, "Started:\t%s\n", time.UnixMilli(d.StartTimestamp).UTC().Format(time.RFC3339Nano))
	}
	fmt.Fprintf(tw, "Coordinator:\t%d\n", d.Coordinator)
	tw.Flush()
	fmt.Fprintln(w)
	if len(d.Topics) == 0 {
		fmt.Fprintln(w, "No partitions in a transaction.")
		return
	}
	tw = newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION")
	for _, tp := range d.Topics.Sorted() {
		for _, p := range tp.Partitions {
			fmt.Fprintf(tw, "%s\t%d\n", tp.Topic, p)
		}
	}
	tw.Flush()
}

func runTxnDescribeProducers(args []string, stdout, stderr io.Writer) int {
	const name = "txn describe-producers"
	fs, c := newClientFlags(name, name+" --topic T [--partitions 0,1]", stderr)
	topic := fs.String("topic", "", "topic whose partitions to ask about (required)")
	partitions := fs.String("partitions", "", "comma-separated partitions (default: all of --topic)")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return cmdUsageError(stderr, name, "unexpected arguments %q", pos)
	}
	if *topic == "" {
		return cmdUsageError(stderr, name, "--topic is required")
	}
	parts, err := parsePartitions(*partitions)
	if err != nil {
		return cmdUsageError(stderr, name, "--partitions: %v", err)
	}
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		producers, err := describeProducers(ctx, adm, *topic, parts)
		if err == nil {
			printProducers(stdout, producers)
		}
		return err
	})
}

// describeProducers asks each partition's leader about the producers that
// wrote to it recently. parts nil means every partition of the topic.
func describeProducers(ctx context.Context, adm *kadm.Client, topic string, parts []int32) ([]kadm.DescribedProducer, error) {
	n, err := requireTopic(ctx, adm, topic)
	if err != nil {
		return nil, err
	}
	if parts == nil {
		for p := range int32(n) {
			parts = append(parts, p)
		}
	}
	set := kadm.TopicsSet{}
	for _, p := range parts {
		if p >= int32(n) {
			return nil, fmt.Errorf("topic %q has no partition %d (it has %d)", topic, p, n)
		}
		set.Add(topic, p)
	}
	described, err := adm.DescribeProducers(ctx, set)
	if err != nil {
		return nil, err
	}
	var out []kadm.DescribedProducer
	for _, dp := range described.SortedPartitions() {
		if dp.Err != nil {
			return nil, topicErr(topic, fmt.Errorf("partition %d: %w", dp.Partition, refusal(dp.Err, dp.ErrMessage)))
		}
		out = append(out, dp.ActiveProducers.Sorted()...)
	}
	return out, nil
}

func printProducers(w io.Writer, ps []kadm.DescribedProducer) {
	if len(ps) == 0 {
		fmt.Fprintln(w, "No active producers.")
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tPRODUCER-ID\tEPOCH\tLAST-SEQUENCE\tCOORDINATOR-EPOCH\tOPEN-TXN-START")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", p.Topic, p.Partition, p.ProducerID, p.ProducerEpoch,
			p.LastSequence, dash(int64(p.CoordinatorEpoch)), dash(p.CurrentTxnStartOffset))
	}
	tw.Flush()
}
