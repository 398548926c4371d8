package bench

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/broker"
)

// The transactions bench compares, on one in-process Sluice and in the
// same run, produce with acks=all against transactional produce of 100
// and 1,000 records per transaction, and a read_committed consume of a
// topic where 10% of the transactions were aborted against a plain read
// of as many records. Every produce mode runs Config.TxnProducers producers at
// once (each transactional one with its own transactional id), as an
// application scales out: one transactional producer does one transaction
// at a time, each costing a few fsyncs, and concurrency is what lets
// group commit share them. Runs alternate between the modes so drift hits
// all alike; the report gives medians and ratios to plain acks=all.

// TxnReport is the result of RunTxn.
type TxnReport struct {
	Records   int // produced per run
	Size      int
	Producers int // at once in each produce mode
	Rows      []TxnRow
}

// TxnRow is one mode's median rate and its ratio to the baseline.
type TxnRow struct {
	Mode  string
	Rate  float64 // records per second, median of the runs
	Ratio float64 // Rate / the baseline's Rate
	Err   error
}

// txnMode is one workload: perTxn 0 is plain acks=all (idempotent, as
// franz-go's default); abortEvery > 0 aborts one transaction in that many
// and measures the read_committed consume instead of produce.
type txnMode struct {
	name       string
	perTxn     int
	abortEvery int
	consume    bool
}

var txnModes = []txnMode{
	{name: "produce acks=all"},
	{name: "produce, 100 records per transaction", perTxn: 100},
	{name: "produce, 1,000 records per transaction", perTxn: 1000},
	{name: "consume, plain topic", consume: true},
	{name: "consume read_committed, 10% aborted", perTxn: 100, abortEvery: 10, consume: true},
}

// The baselines: plain produce for the produce modes, the plain read for
// the consume modes.
const (
	produceBaseline = 0
	consumeBaseline = 3
)

// defaultTxnProducers is how many producers each produce mode runs at
// once unless Config.TxnProducers says otherwise.
const defaultTxnProducers = 8

// RunTxn runs cfg.Runs rounds of every mode with records of 100 bytes.
func RunTxn(ctx context.Context, cfg Config) (*TxnReport, error) {
	cfg.setDefaults()
	b, dir, err := startBroker(cfg, func(c *broker.Config) { c.TxnStatePartitions = cfg.TxnStatePartitions })
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	defer b.Close()
	t := &target{kind: KindSluice, addrs: []string{b.Addr()}}
	rep := &TxnReport{Records: max(1000, int(200_000*cfg.Scale)), Size: 100, Producers: cmp.Or(cfg.TxnProducers, defaultTxnProducers)}
	payload := make([]byte, rep.Size)
	rand.Read(payload)
	rates := make([][]float64, len(txnModes))
	errs := make([]error, len(txnModes))
	for run := 1; run <= cfg.Runs; run++ {
		for i, m := range txnModes {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rate, err := runTxnMode(ctx, t, m, rep.Records, payload, run, rep.Producers)
			if err != nil {
				errs[i] = err
				fmt.Fprintf(cfg.Progress, "%-42s run %d: ERROR %v\n", m.name, run, err)
				continue
			}
			fmt.Fprintf(cfg.Progress, "%-42s run %d: %s rec/s\n", m.name, run, fmtRate(rate))
			rates[i] = append(rates[i], rate)
		}
	}
	for i, m := range txnModes {
		row := TxnRow{Mode: m.name, Rate: median(rates[i]), Err: errs[i]}
		base := median(rates[produceBaseline])
		if m.consume {
			base = median(rates[consumeBaseline])
		}
		if base > 0 {
			row.Ratio = row.Rate / base
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

func runTxnMode(ctx context.Context, t *target, m txnMode, n int, payload []byte, run, producers int) (float64, error) {
	topic := fmt.Sprintf("bench-txn-%d-%d-r%d-%d", m.perTxn, m.abortEvery, run, time.Now().UnixNano())
	if err := t.createTopic(ctx, topic, 3); err != nil {
		return 0, err
	}
	defer t.deleteTopic(context.WithoutCancel(ctx), topic)
	start := time.Now()
	committed, err := produceConcurrently(ctx, t.addrs, topic, n, payload, m, run, producers)
	if err != nil {
		return 0, fmt.Errorf("produce: %w", err)
	}
	if !m.consume {
		return float64(n) / time.Since(start).Seconds(), nil
	}
	level := kgo.ReadUncommitted()
	if m.perTxn > 0 {
		level = kgo.ReadCommitted()
	}
	start = time.Now()
	if err := consumeLevel(ctx, t.addrs, topic, committed, level); err != nil {
		return 0, fmt.Errorf("consume: %w", err)
	}
	return float64(committed) / time.Since(start).Seconds(), nil
}

// produceConcurrently splits n records over producers and returns how
// many records were committed.
func produceConcurrently(ctx context.Context, addrs []string, topic string, n int, payload []byte, m txnMode, run, producers int) (int, error) {
	var wg sync.WaitGroup
	committed := make([]int, producers)
	errs := make([]error, producers)
	for i := range producers {
		share := n / producers
		if i == 0 {
			share += n % producers
		}
		wg.Go(func() {
			committed[i], errs[i] = produceTxns(ctx, addrs, topic, share, payload, m, fmt.Sprintf("%d-%d", run, i))
		})
	}
	wg.Wait()
	total := 0
	for i := range producers {
		if errs[i] != nil {
			return 0, errs[i]
		}
		total += committed[i]
	}
	return total, nil
}

// produceTxns writes n records: plainly (m.perTxn 0), or in transactions
// of m.perTxn records, every m.abortEvery-th aborted. It returns how many
// records were committed.
func produceTxns(ctx context.Context, addrs []string, topic string, n int, payload []byte, m txnMode, id string) (int, error) {
	// No linger: franz-go's default of 10 ms would hold every
	// transaction's records for that long before the first request, which
	// a transactional application tunes away; the plain mode gets the
	// same setting so the comparison is of the broker alone.
	opts := []kgo.Opt{kgo.SeedBrokers(addrs...), kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxBufferedRecords(10_000), kgo.ProducerLinger(0)}
	if m.perTxn > 0 {
		opts = append(opts, kgo.TransactionalID(topic+"-"+id))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	if m.perTxn == 0 {
		return n, produceAll(ctx, cl, n, payload)
	}
	committed := 0
	for i := 0; i*m.perTxn < n; i++ {
		k := min(m.perTxn, n-i*m.perTxn)
		if err := cl.BeginTransaction(); err != nil {
			return 0, err
		}
		if err := produceAll(ctx, cl, k, payload); err != nil {
			return 0, err
		}
		commit := m.abortEvery == 0 || (i+1)%m.abortEvery != 0
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			return 0, err
		}
		if commit {
			committed += k
		}
	}
	return committed, nil
}

// produceAll produces n records and waits for every acknowledgement.
func produceAll(ctx context.Context, cl *kgo.Client, n int, payload []byte) error {
	return produceEach(ctx, cl, n, func() *kgo.Record { return &kgo.Record{Value: payload} })
}

// produceEach produces n records made by next and waits for every
// acknowledgement; it returns the first error.
func produceEach(ctx context.Context, cl *kgo.Client, n int, next func() *kgo.Record) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	wg.Add(n)
	for range n {
		cl.Produce(ctx, next(), func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				first = cmpErr(first, err)
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	return first
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// consumeLevel reads want records from the start at an isolation level;
// more than want is an error.
func consumeLevel(ctx context.Context, addrs []string, topic string, want int, level kgo.IsolationLevel) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(level))
	if err != nil {
		return err
	}
	defer cl.Close()
	got := 0
	for got < want {
		n, err := pollOnce(ctx, cl)
		if err != nil {
			return fmt.Errorf("consumed %d of %d: %w", got, want, err)
		}
		got += n
	}
	if got != want {
		return fmt.Errorf("consumed %d records, want %d", got, want)
	}
	return nil
}

// WriteMarkdown writes the report as a table.
func (r *TxnReport) WriteMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "%d records of %d B, 3 partitions, acks=all, %d producers at once, medians; ratios to plain acks=all (produce) and to a plain read (consume)\n\n", r.Records, r.Size, r.Producers)
	fmt.Fprintln(w, "| mode | rec/s | ratio |")
	fmt.Fprintln(w, "|---|--:|--:|")
	for _, row := range r.Rows {
		if row.Err != nil && row.Rate == 0 {
			fmt.Fprintf(w, "| %s | error: %v | |\n", row.Mode, row.Err)
			continue
		}
		_, err := fmt.Fprintf(w, "| %s | %s | %.2f |\n", row.Mode, fmtRate(row.Rate), row.Ratio)
		if err != nil {
			return err
		}
	}
	return nil
}
