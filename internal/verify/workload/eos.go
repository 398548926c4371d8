package workload

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/verify/history"
)

// ErrUnknownOutcome ends an EOS worker whose transaction ended with an
// error: the client cannot say whether it committed, and a replacement
// with the same transactional id fences it and starts clean.
var ErrUnknownOutcome = errors.New("transaction outcome unknown")

// txnTimeout is the EOS workers' transaction.timeout.ms: an open
// transaction of a worker killed for good is aborted after it.
const txnTimeout = 10 * time.Second

// eosWorker is the consume-process-produce loop of KIP-98 with KIP-447's
// group fencing, as franz-go's GroupTransactSession runs it: each poll is
// written to c.Output and its offsets committed in one transaction.
type eosWorker struct {
	c     Config
	rec   *recorder
	crash *crasher
	sess  *kgo.GroupTransactSession
	rng   *rand.Rand
	n     int // transactions begun
}

func runEOS(stop context.Context, c Config, rec *recorder, crash *crasher) error {
	opts := append(baseOpts(c), groupOpts(c, rec)...)
	opts = append(opts, kgo.TransactionalID(c.TxnID), kgo.TransactionTimeout(txnTimeout),
		kgo.ConsumeTopics(c.Topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RequireStableFetchOffsets(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return err
	}
	defer sess.Close()
	w := &eosWorker{c: c, rec: rec, crash: crash, sess: sess, rng: rand.New(rand.NewPCG(c.Seed, uint64(c.Process)))}
	for stop.Err() == nil {
		recs, at := poll(stop, sess)
		if len(recs) == 0 {
			continue
		}
		if err := w.transact(recs, at); err != nil {
			return err
		}
	}
	return nil
}

// transact processes one poll in a transaction. The poll is recorded
// first, naming the transaction; if the worker dies before the end, that
// transaction never commits and the poll counts as no delivery.
func (w *eosWorker) transact(recs []*kgo.Record, at time.Time) error {
	w.n++
	txn := fmt.Sprintf("p%d-t%d", w.c.Process, w.n)
	w.rec.polled(at, recs, w.c.Group, txn, true)
	begin := time.Now()
	if err := w.sess.Begin(); err != nil {
		return fmt.Errorf("begin %s: %w", txn, err)
	}
	w.rec.txn(history.TxnBegin, begin, txn, "", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*txnTimeout)
	defer cancel()
	for _, r := range recs {
		// The output is the input value, in the same partition: a
		// reprocessed record writes the same value again, as the
		// history rules want of a retry.
		out := &kgo.Record{Topic: w.c.Output, Key: r.Key, Value: r.Value, Partition: r.Partition}
		start := time.Now()
		w.sess.Produce(ctx, out, func(r *kgo.Record, err error) { w.rec.sent(start, r, err, true, txn) })
	}
	commit := w.c.AbortEvery == 0 || w.rng.IntN(w.c.AbortEvery) != 0
	if !commit {
		// Abort after the output is written, as an application whose
		// processing fails late does: the log then holds aborted
		// records for read_committed readers to skip.
		w.sess.Client().Flush(ctx)
	}
	w.crash.at(beforeCommit, len(recs))
	end := time.Now()
	committed, err := w.sess.End(ctx, kgo.TransactionEndTry(commit))
	w.crash.at(afterCommit, len(recs)) // the outcome is then never recorded: the checker must infer it
	return w.ended(recs, txn, end, commit, committed, err)
}

// ended records how End went. End commits the offsets inside the
// transaction (so the commit op shares its outcome) and, when it did not
// commit, moves the consumer back to the committed offsets, which is
// recorded as an assign of the partitions it moved.
func (w *eosWorker) ended(recs []*kgo.Record, txn string, start time.Time, wanted, committed bool, err error) error {
	switch {
	case err != nil && wanted:
		// The commit may have happened, so the session's idea of the
		// committed offsets may be behind the group's, and reading on
		// from it could process these records again; and franz-go
		// leaves some errors fatal to the producer. A replacement
		// starts from what the group really committed, and fences
		// this one.
		w.rec.committed(start, recs, w.c.Group, txn, history.Info, err)
		w.rec.txn(history.TxnCommit, start, txn, history.Info, err)
		return fmt.Errorf("%s: %w: %v", txn, ErrUnknownOutcome, err)
	case err != nil:
		w.rec.txn(history.TxnAbort, start, txn, history.Info, err)
		return fmt.Errorf("%s: %w: %v", txn, ErrUnknownOutcome, err)
	case committed:
		w.rec.committed(start, recs, w.c.Group, txn, history.OK, nil)
		w.rec.txn(history.TxnCommit, start, txn, history.OK, nil)
	default:
		var why error
		if wanted {
			why = errors.New("the session aborted instead of committing (a rebalance, or the offsets were refused)")
			w.rec.committed(start, recs, w.c.Group, txn, history.Fail, why)
		}
		w.rec.txn(history.TxnAbort, start, txn, history.OK, why)
		w.rec.moved(history.Assign, partitionsOf(recs), w.c.Group)
	}
	return nil
}
