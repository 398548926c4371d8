package bench

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The transactions bench compares, in one run and on every broker of the
// run, produce with acks=all against transactional produce of 100 and
// 1,000 records per transaction, and a read_committed consume of a topic
// where 10% of the transactions were aborted against a plain read of as
// many records. Every produce mode runs Config.TxnProducers producers at
// once (each transactional one with its own transactional id), as an
// application scales out: one transactional producer does one transaction
// at a time, and concurrency is what lets group commit share fsyncs. A
// consumer reads while they write, as users run: read_committed for the
// transactional modes, so that it waits for each commit.
//
// The peers matter more here than anywhere: a transaction costs the
// client requests and work of its own (begin, flush, EndTxn), so even a
// broker that keeps everything in memory does not reach the plain rate.
// The report gives each broker's ratio to its own plain acks=all, and
// the CPU each transaction costs the broker and the clients. Runs
// alternate between brokers and modes so that drift hits all alike.

// TxnReport is the result of RunTxn.
type TxnReport struct {
	Info      string
	Records   int // produced per run
	Size      int
	Producers int // at once in each produce mode
	Kinds     []Kind
	Rows      []TxnRow
}

// TxnRow is one mode on every broker.
type TxnRow struct {
	Mode    string
	Results map[Kind]TxnResult
}

// TxnResult is one mode on one broker: medians of the runs.
type TxnResult struct {
	Rate  float64 // records per second
	Ratio float64 // Rate / the same broker's baseline Rate
	// Per 100 records produced (one transaction of the 100-record mode),
	// CPU of the broker and of the bench's clients (producers and the
	// consumer reading meanwhile); 0 when not measured (consume modes,
	// brokers in the bench's process).
	BrokerCPU, ClientCPU time.Duration
	Err                  error
}

// txnMode is one workload: perTxn 0 is plain acks=all (idempotent, as
// franz-go's default); abortEvery > 0 aborts one transaction in that many;
// consume measures a read of the produced topic instead of the produce.
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

// txnKinds is the run's brokers that can run transactions: the null
// broker acknowledges produce and nothing else.
func txnKinds(kinds []Kind) []Kind {
	return slices.DeleteFunc(slices.Clone(kinds), func(k Kind) bool { return k == KindNull })
}

// RunTxn runs cfg.Runs rounds of every mode on every broker of cfg.Kinds
// but the null one, with records of 100 bytes.
func RunTxn(ctx context.Context, cfg Config) (*TxnReport, error) {
	cfg.setDefaults()
	cfg.Kinds = txnKinds(cfg.Kinds)
	targets, err := startTargets(cfg)
	if err != nil {
		return nil, err
	}
	defer closeTargets(targets)
	rep := &TxnReport{Info: newReport(cfg).Info, Records: max(1000, int(500_000*cfg.Scale)), Size: 100,
		Producers: cmp.Or(cfg.TxnProducers, defaultTxnProducers), Kinds: cfg.Kinds}
	if cfg.TxnStatePartitions > 0 {
		rep.Info += fmt.Sprintf(", Sluice's __transaction_state partitions=%d", cfg.TxnStatePartitions)
	}
	payload := make([]byte, rep.Size)
	rand.Read(payload)
	runs := make([]map[Kind][]txnRun, len(txnModes))
	for i := range runs {
		runs[i] = map[Kind][]txnRun{}
	}
	for run := 1; run <= cfg.Runs; run++ {
		for i, m := range txnModes {
			for _, t := range targets {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				r := runTxnMode(ctx, t, m, rep.Records, payload, run, rep.Producers)
				if r.err != nil {
					fmt.Fprintf(cfg.Progress, "%-40s %-12s run %d: ERROR %v\n", m.name, t.kind, run, r.err)
				} else {
					fmt.Fprintf(cfg.Progress, "%-40s %-12s run %d: %s rec/s, CPU per 100 records: broker %s µs, clients %s µs\n",
						m.name, t.kind, run, fmtRate(r.rate), fmtCPU(r.brokerCPU), fmtCPU(r.clientCPU))
				}
				runs[i][t.kind] = append(runs[i][t.kind], r)
			}
		}
	}
	for i, m := range txnModes {
		row := TxnRow{Mode: m.name, Results: map[Kind]TxnResult{}}
		base := produceBaseline
		if m.consume {
			base = consumeBaseline
		}
		for _, k := range cfg.Kinds {
			res := summarizeTxn(runs[i][k])
			if b := summarizeTxn(runs[base][k]).Rate; b > 0 {
				res.Ratio = res.Rate / b
			}
			row.Results[k] = res
		}
		rep.Rows = append(rep.Rows, row)
	}
	rep.Info += ", at end " + loadAvg()
	return rep, nil
}

// txnRun is one run of one mode on one broker.
type txnRun struct {
	rate                 float64
	brokerCPU, clientCPU time.Duration // per 100 records
	err                  error
}

// summarizeTxn takes the medians of the runs that succeeded and the
// first error.
func summarizeTxn(rs []txnRun) TxnResult {
	var res TxnResult
	var rates, broker, client []float64
	for _, r := range rs {
		if r.err != nil {
			res.Err = cmp.Or(res.Err, r.err)
			continue
		}
		rates = append(rates, r.rate)
		broker = append(broker, float64(r.brokerCPU))
		client = append(client, float64(r.clientCPU))
	}
	res.Rate = median(rates)
	res.BrokerCPU, res.ClientCPU = time.Duration(median(broker)), time.Duration(median(client))
	return res
}

func runTxnMode(ctx context.Context, t *target, m txnMode, n int, payload []byte, run, producers int) txnRun {
	topic := fmt.Sprintf("bench-txn-%d-%d-r%d-%d", m.perTxn, m.abortEvery, run, time.Now().UnixNano())
	if err := t.createTopic(ctx, topic, 3); err != nil {
		return txnRun{err: fmt.Errorf("create topic: %w", err)}
	}
	defer t.deleteTopic(context.WithoutCancel(ctx), topic)
	if m.consume {
		committed, err := produceConcurrently(ctx, t.addrs, topic, n, payload, m, run, producers)
		if err != nil {
			return txnRun{err: fmt.Errorf("produce: %w", err)}
		}
		start := time.Now()
		if err := consumeLevel(ctx, t.addrs, topic, committed, isolation(m)); err != nil {
			return txnRun{err: fmt.Errorf("consume: %w", err)}
		}
		return txnRun{rate: float64(committed) / time.Since(start).Seconds()}
	}
	return produceWhileReading(ctx, t, topic, m, n, payload, run, producers)
}

// isolation is the level a mode's consumer reads at.
func isolation(m txnMode) kgo.IsolationLevel {
	if m.perTxn > 0 {
		return kgo.ReadCommitted()
	}
	return kgo.ReadUncommitted()
}

// produceWhileReading runs a produce mode with a consumer reading the
// topic meanwhile, and measures the produce rate and the CPU the broker
// and the clients spent per 100 records until the consumer had them all.
func produceWhileReading(ctx context.Context, t *target, topic string, m txnMode, n int, payload []byte, run, producers int) txnRun {
	cl, err := kgo.NewClient(kgo.SeedBrokers(t.addrs...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(isolation(m)))
	if err != nil {
		return txnRun{err: err}
	}
	defer cl.Close()
	done := make(chan error, 1)
	go func() {
		_, _, err := readN(ctx, cl, n)
		done <- err
	}()
	t.window("begin")
	broker0, brokerErr := t.cpuTime()
	client0 := cpuTime()
	start := time.Now()
	committed, err := produceConcurrently(ctx, t.addrs, topic, n, payload, m, run, producers)
	elapsed := time.Since(start)
	if err == nil && committed != n {
		err = fmt.Errorf("committed %d records of %d", committed, n)
	}
	if err != nil {
		t.window("end")
		return txnRun{err: fmt.Errorf("produce: %w", err)}
	}
	if err := <-done; err != nil {
		t.window("end")
		return txnRun{err: fmt.Errorf("consume while producing: %w", err)}
	}
	t.window("end")
	r := txnRun{rate: float64(n) / elapsed.Seconds()}
	per100 := func(d time.Duration) time.Duration { return d * 100 / time.Duration(n) }
	r.clientCPU = per100(cpuTime() - client0)
	if broker1, err := t.cpuTime(); err == nil && brokerErr == nil && t.cpu != nil {
		r.brokerCPU = per100(broker1 - broker0)
	}
	if t.cpu == nil {
		r.clientCPU = 0 // the brokers share the bench's process: not the clients' alone
	}
	return r
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

// Err joins the first error of every mode and broker; nil when every run
// passed.
func (r *TxnReport) Err() error {
	var errs []string
	for _, row := range r.Rows {
		for _, k := range r.Kinds {
			if err := row.Results[k].Err; err != nil {
				errs = append(errs, fmt.Sprintf("%s on %s: %v", row.Mode, k, err))
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(errs, "; "))
}

// WriteMarkdown writes the info line, the rates with each broker's ratio
// to its own baseline and Sluice's ratio to each peer, and the CPU each
// 100 records produced cost.
func (r *TxnReport) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", r.Info)
	fmt.Fprintf(&b, "%d records of %d B, 3 partitions, acks=all, %d producers at once, a consumer reading while they write; medians. Each rate's ratio in brackets is to the same broker's plain acks=all (produce) or plain read (consume).\n\n",
		r.Records, r.Size, r.Producers)
	b.WriteString("| mode |")
	for _, k := range r.Kinds {
		fmt.Fprintf(&b, " %s rec/s |", k.Label())
	}
	for _, k := range r.Kinds[1:] {
		fmt.Fprintf(&b, " Sluice / %s |", k.Label())
	}
	b.WriteString("\n|---|" + strings.Repeat("--:|", 2*len(r.Kinds)-1) + "\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s |", row.Mode)
		for _, k := range r.Kinds {
			res := row.Results[k]
			if res.Rate == 0 {
				b.WriteString(" error |")
				continue
			}
			fmt.Fprintf(&b, " %s (%.2f) |", fmtRate(res.Rate), res.Ratio)
		}
		sluice := row.Results[KindSluice].Rate
		for _, k := range r.Kinds[1:] {
			if peer := row.Results[k].Rate; peer > 0 && sluice > 0 {
				fmt.Fprintf(&b, " %.2f |", sluice/peer)
			} else {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\nCPU per 100 records produced, µs (broker / clients: the producers and the consumer):\n\n| mode |")
	for _, k := range r.Kinds {
		fmt.Fprintf(&b, " %s |", k.Label())
	}
	b.WriteString("\n|---|" + strings.Repeat("--:|", len(r.Kinds)) + "\n")
	for _, row := range r.Rows {
		if row.Results[r.Kinds[0]].BrokerCPU == 0 && row.Results[r.Kinds[0]].ClientCPU == 0 {
			continue // consume modes, or not measured
		}
		fmt.Fprintf(&b, "| %s |", row.Mode)
		for _, k := range r.Kinds {
			res := row.Results[k]
			fmt.Fprintf(&b, " %s / %s |", fmtCPU(res.BrokerCPU), fmtCPU(res.ClientCPU))
		}
		b.WriteString("\n")
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(&b, "\nErrors: %v\n", err)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
