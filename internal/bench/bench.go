// Package bench measures produce and consume speed of Sluice side by side
// with peers in one run: a null broker that acknowledges without storing
// (the client's own ceiling), franz-go's kfake in memory, and kfake
// writing to disk with an fsync per batch. The same franz-go client code
// drives every broker, so the ratios say how much each broker (and its
// disk) costs.
package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"sluice/internal/partition"
)

// Acks is the producer's required acks.
type Acks int

const (
	AcksLeader Acks = 1
	AcksAll    Acks = -1
)

func (a Acks) String() string {
	if a == AcksAll {
		return "all"
	}
	return "1"
}

// Cell is one workload of the matrix.
type Cell struct {
	Records    int // before --scale
	Size       int // value bytes per record
	Acks       Acks
	Partitions int32
	Idempotent bool // enable.idempotence: producer ids and sequences (acks=all only)
}

// Name is what --only matches against, e.g. "1KiB/acks=all/p6" or
// "1KiB/acks=all+idem/p6".
func (c Cell) Name() string {
	acks := c.Acks.String()
	if c.Idempotent {
		acks += "+idem"
	}
	return fmt.Sprintf("%s/acks=%s/p%d", sizeName(c.Size), acks, c.Partitions)
}

func sizeName(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%dKiB", n/1024)
	}
	return fmt.Sprintf("%dB", n)
}

// Matrix is the default workload set: two record shapes of equal total
// volume (~100 MB) on 1, 6 and 100 partitions, at the given acks.
func Matrix(acks Acks, idempotent bool) []Cell {
	var cells []Cell
	for _, shape := range []struct{ n, size int }{{1_000_000, 100}, {100_000, 1024}} {
		for _, p := range []int32{1, 6, 100} {
			cells = append(cells, Cell{Records: shape.n, Size: shape.size, Acks: acks, Partitions: p, Idempotent: idempotent && acks == AcksAll})
		}
	}
	return cells
}

// Config is one bench invocation.
type Config struct {
	Fsync partition.FsyncPolicy // for the in-process Sluice
	// Journal runs the Sluice the bench starts with fsync.journal=true.
	Journal     bool
	Brokers     string  // comma-separated; bench this Sluice instead of starting one
	DataDir     string  // parent of the in-process Sluice's temp data dir; default os.TempDir()
	Scale       float64 // multiplies record counts; default 1
	Runs        int     // repeats per cell; the report keeps the median; default 3
	Only        string  // substring filter on Cell.Name
	MaxBuffered int     // kgo MaxBufferedRecords; default 10,000
	Cells       []Cell  // default Matrix(AcksAll, false)
	// Kinds are the brokers of the run, Sluice first; default Kinds.
	Kinds []Kind
	// ConsumeAfter reads each topic only once produce has finished (the
	// bench's first form); by default a consumer reads while the producer
	// writes, as users run, and a second one reads the topic alone after.
	ConsumeAfter bool
	// InProcess runs the brokers in the bench's process instead of child
	// processes: no broker CPU column, but one --cpuprofile shows all.
	InProcess bool
	// Binary is the sluice binary the child brokers run; default this
	// process's executable.
	Binary string
	// ProfileDir, when set, makes each child broker write CPU, block and
	// mutex profiles there (<kind>.cpu.pprof, ...), of the broker alone.
	ProfileDir string
	// Latency is the fixed-rate mode (latency.go).
	Latency LatencyConfig
	// Restart is the restart mode (restart.go).
	Restart RestartConfig
	// For the transactions bench: producers at once (default 8), and the
	// in-process Sluice's __transaction_state partitions (default: the
	// broker's).
	TxnProducers       int
	TxnStatePartitions int32
	Progress           io.Writer // one line per run; default io.Discard
}

func (c *Config) setDefaults() {
	if c.DataDir == "" {
		c.DataDir = os.TempDir()
	}
	if c.Scale <= 0 {
		c.Scale = 1
	}
	if c.Runs <= 0 {
		c.Runs = 3
	}
	if c.MaxBuffered <= 0 {
		c.MaxBuffered = 10_000
	}
	if c.Cells == nil {
		c.Cells = Matrix(AcksAll, false)
	}
	if c.Kinds == nil {
		c.Kinds = Kinds
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
}

// records is the cell's record count after scaling, never below one.
func (c Config) records(cell Cell) int {
	return max(1, int(float64(cell.Records)*c.Scale))
}

// selected is the cells that pass --only: the cell of that exact name if
// there is one (so that "100B/acks=all/p1" is not also p100), else every
// cell whose name contains it.
func (c Config) selected() []Cell {
	for _, cell := range c.Cells {
		if cell.Name() == c.Only {
			return []Cell{cell}
		}
	}
	var out []Cell
	for _, cell := range c.Cells {
		if strings.Contains(cell.Name(), c.Only) {
			out = append(out, cell)
		}
	}
	return out
}

// Run starts every target, runs every selected cell Runs times against
// each and returns the medians. A failing cell is recorded in its Row and
// the bench goes on; the returned error is only for setup failures.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.setDefaults()
	cells := cfg.selected()
	if len(cells) == 0 {
		return nil, fmt.Errorf("no cell matches --only %q", cfg.Only)
	}
	targets, err := startTargets(cfg)
	if err != nil {
		return nil, err
	}
	defer closeTargets(targets)

	rep := newReport(cfg)
	for _, cell := range cells {
		// An interrupt stops the matrix rather than failing every cell left.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rep.Rows = append(rep.Rows, runCell(ctx, cfg, cell, targets))
	}
	rep.finish()
	return rep, nil
}

// runCell alternates the targets run by run, so slow drift on the machine
// (page cache, thermal, neighbours) hits every column alike.
func runCell(ctx context.Context, cfg Config, cell Cell, targets []*target) Row {
	row := Row{Cell: cell, Records: cfg.records(cell), Kinds: cfg.Kinds, Results: map[Kind]Summary{}}
	payload := make([]byte, cell.Size)
	rand.Read(payload)
	runs := map[Kind][]runResult{}
	for run := 1; run <= cfg.Runs; run++ {
		for _, t := range targets {
			runs[t.kind] = append(runs[t.kind], runOnce(ctx, cfg, cell, row.Records, payload, t, run))
		}
	}
	for k, rs := range runs {
		row.Results[k] = summarize(rs)
	}
	return row
}

// runOnce is one pass on a fresh topic.
func runOnce(ctx context.Context, cfg Config, cell Cell, n int, payload []byte, t *target, run int) runResult {
	topic := fmt.Sprintf("bench-%s-%d-r%d-%d", strings.NewReplacer("/", "-", "=", "", "+", "-").Replace(cell.Name()), n, run, time.Now().UnixNano())
	r, err := onTopic(ctx, t, topic, cell.Partitions, func() (runResult, error) {
		if cfg.ConsumeAfter {
			return produceThenConsume(ctx, cfg, cell, n, payload, t, topic)
		}
		return produceWhileConsuming(ctx, cfg, cell, n, payload, t, topic)
	})
	if err != nil {
		r.err = fmt.Errorf("%s %s run %d: %w", t.kind, cell.Name(), run, err)
		fmt.Fprintf(cfg.Progress, "%-22s %-12s run %d: ERROR %v\n", cell.Name(), t.kind, run, err)
		return r
	}
	fmt.Fprintf(cfg.Progress, "%-22s %-12s run %d: produce %s rec/s p99 %s, consume %s rec/s, alone %s rec/s, broker CPU %s\n",
		cell.Name(), t.kind, run, fmtRate(r.produceRate), fmtDur(r.p99), fmtRate(r.consumeRate), fmtRate(r.aloneRate), fmtCPU(r.cpuPerRecord))
	return r
}

// onTopic runs fn on a fresh topic of the target, deleted after.
func onTopic(ctx context.Context, t *target, topic string, partitions int32, fn func() (runResult, error)) (runResult, error) {
	if err := t.createTopic(ctx, topic, partitions); err != nil {
		return runResult{}, fmt.Errorf("create topic: %w", err)
	}
	// Deleting is hygiene, not measurement: a failure only costs space.
	defer t.deleteTopic(context.WithoutCancel(ctx), topic)
	return fn()
}

// produceThenConsume produces every record, then reads them back: the
// bench's first form (--consume-after).
func produceThenConsume(ctx context.Context, cfg Config, cell Cell, n int, payload []byte, t *target, topic string) (runResult, error) {
	pr, err := produce(ctx, t.addrs, topic, n, payload, cell, cfg.MaxBuffered)
	if err != nil {
		return runResult{}, fmt.Errorf("produce: %w", err)
	}
	cr, err := consume(ctx, t.addrs, topic, pr.records)
	r := measure(pr, cr, cell.Size)
	r.aloneRate = r.consumeRate
	if err != nil {
		return r, fmt.Errorf("consume: %w", err)
	}
	return r, nil
}
