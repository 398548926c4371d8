package cli

// `sluice txn abort`: two ways to end a transaction that holds
// read_committed consumers back.
//
// By transactional id, through the coordinator: an InitProducerId for the
// id is what a restarted producer sends, and it makes the coordinator
// abort the open transaction on every partition (markers included), bump
// the epoch and so fence the producer that opened it. This is the normal
// way: the coordinator stays the one deciding.
//
// By partition (KIP-664): an abort marker written straight to the
// partition for the producer that DescribeProducers shows with an open
// transaction there. This is for a hanging transaction, one the
// coordinator no longer knows (it never got the partition, or forgot the
// id), which no timeout will ever abort.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// abortTarget is what abort was asked to end.
type abortTarget struct {
	txnID      string // by transactional id; or:
	topic      string
	partition  int32
	producerID int64 // -1: the only open one
}

func runTxnAbort(args []string, stdout, stderr io.Writer) int {
	const name = "txn abort"
	fs, c := newClientFlags(name, name+" TRANSACTIONAL-ID | --topic T --partition P [--producer-id N]", stderr)
	topic := fs.String("topic", "", "abort the open transaction on a partition of this topic, with a marker")
	partition := fs.Int("partition", -1, "with --topic: the partition")
	producerID := fs.Int64("producer-id", -1, "with --topic: the producer whose transaction to abort, when several are open")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	target, err := buildAbortTarget(pos, *topic, *partition, *producerID)
	if err != nil {
		return cmdUsageError(stderr, name, "%v", err)
	}
	return c.runAdmin(name, stderr, func(ctx context.Context, cl *kgo.Client, adm *kadm.Client) error {
		if target.txnID != "" {
			return abortByID(ctx, cl, adm, target.txnID, stdout)
		}
		return abortOnPartition(ctx, adm, target, stdout)
	})
}

func buildAbortTarget(pos []string, topic string, partition int, producerID int64) (abortTarget, error) {
	t := abortTarget{topic: topic, partition: int32(partition), producerID: producerID}
	switch {
	case topic == "" && len(pos) == 1 && partition < 0 && producerID < 0:
		t.txnID = pos[0]
		return t, nil
	case topic == "" && len(pos) != 1:
		return t, fmt.Errorf("give one TRANSACTIONAL-ID, or --topic and --partition")
	case topic == "":
		return t, fmt.Errorf("--partition and --producer-id go with --topic")
	case len(pos) > 0:
		return t, fmt.Errorf("give a TRANSACTIONAL-ID or --topic, not both")
	case partition < 0:
		return t, fmt.Errorf("--topic needs --partition")
	}
	return t, nil
}

// abortByID has the coordinator abort the id's open transaction.
func abortByID(ctx context.Context, cl *kgo.Client, adm *kadm.Client, id string, w io.Writer) error {
	d, err := describeTxn(ctx, adm, id)
	if err != nil {
		return err
	}
	switch d.State {
	case "Ongoing":
	case "PrepareCommit", "PrepareAbort":
		return fmt.Errorf("the transaction of %q is already decided (%s); its coordinator is writing the markers", id, d.State)
	default:
		fmt.Fprintf(w, "Transactional id %q has no open transaction (state %s); nothing to abort.\n", id, d.State)
		return nil
	}
	resp, err := fenceTxnID(ctx, cl, id, d.TimeoutMillis)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Aborted the open transaction of %q (producer id %d, epoch %d; the epoch is now %d, so the producer that opened it is fenced).\n",
		id, d.ProducerID, d.ProducerEpoch, resp.ProducerEpoch)
	return nil
}

// fenceTxnID sends InitProducerId for the id until the coordinator has
// finished the abort it starts: meanwhile it answers
// CONCURRENT_TRANSACTIONS, which franz-go hands back rather than retries.
// The id keeps its transaction timeout.
func fenceTxnID(ctx context.Context, cl *kgo.Client, id string, timeoutMillis int32) (*kmsg.InitProducerIDResponse, error) {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID = &id
	req.TransactionTimeoutMillis = timeoutMillis
	req.ProducerID, req.ProducerEpoch = -1, -1
	for {
		resp, err := req.RequestWith(ctx, cl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if !errors.Is(err, kerr.ConcurrentTransactions) && !errors.Is(err, kerr.CoordinatorLoadInProgress) {
			if err != nil {
				return nil, fmt.Errorf("transactional id %q: %w", id, err)
			}
			return resp, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("transactional id %q: the coordinator was still aborting when the time ran out: %w", id, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// abortOnPartition writes an abort marker for the open transaction on one
// partition.
func abortOnPartition(ctx context.Context, adm *kadm.Client, t abortTarget, w io.Writer) error {
	open, err := openTxnOn(ctx, adm, t)
	if err != nil {
		return err
	}
	if open == nil {
		fmt.Fprintf(w, "No open transaction on %s/%d; nothing to abort.\n", t.topic, t.partition)
		return nil
	}
	res, err := adm.WriteTxnMarkers(ctx, kadm.TxnMarkers{
		ProducerID: open.ProducerID, ProducerEpoch: open.ProducerEpoch, Commit: false,
		CoordinatorEpoch: open.CoordinatorEpoch, Topics: kadm.TopicsSet{t.topic: {t.partition: {}}},
	})
	if err != nil {
		return err
	}
	for _, p := range res.SortedPartitions() {
		if p.Err != nil {
			return fmt.Errorf("abort marker on %s/%d: %w", p.Topic, p.Partition, p.Err)
		}
	}
	fmt.Fprintf(w, "Wrote an abort marker to %s/%d for producer id %d (epoch %d); its transaction there, begun at offset %d, is aborted.\n",
		t.topic, t.partition, open.ProducerID, open.ProducerEpoch, open.CurrentTxnStartOffset)
	return nil
}

// openTxnOn finds the producer with an open transaction on the partition;
// nil when there is none.
func openTxnOn(ctx context.Context, adm *kadm.Client, t abortTarget) (*kadm.DescribedProducer, error) {
	producers, err := describeProducers(ctx, adm, t.topic, []int32{t.partition})
	if err != nil {
		return nil, err
	}
	var open []kadm.DescribedProducer
	for _, p := range producers {
		if p.CurrentTxnStartOffset >= 0 && (t.producerID < 0 || p.ProducerID == t.producerID) {
			open = append(open, p)
		}
	}
	switch {
	case len(open) == 1:
		return &open[0], nil
	case len(open) > 1:
		ids := make([]int64, len(open))
		for i, p := range open {
			ids[i] = p.ProducerID
		}
		return nil, fmt.Errorf("%d transactions are open on %s/%d (producer ids %v): choose one with --producer-id", len(open), t.topic, t.partition, ids)
	case t.producerID >= 0:
		return nil, fmt.Errorf("producer id %d has no open transaction on %s/%d ('sluice txn describe-producers --topic %s' lists the producers)", t.producerID, t.topic, t.partition, t.topic)
	}
	return nil, nil
}
