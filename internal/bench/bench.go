// Package bench measures produce and consume speed of Sluice side by side
// with franz-go's in-memory kfake cluster, using the same franz-go client
// code against both, so the ratio between the two says how much the
// broker (and, for Sluice, its disk) costs.
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
// volume (~100 MB), acks=1, acks=all and idempotent acks=all, one and six
// partitions.
func Matrix() []Cell {
	var cells []Cell
	for _, shape := range []struct{ n, size int }{{1_000_000, 100}, {100_000, 1024}} {
		for _, mode := range []struct {
			acks Acks
			idem bool
		}{{AcksLeader, false}, {AcksAll, false}, {AcksAll, true}} {
			for _, p := range []int32{1, 6} {
				cells = append(cells, Cell{Records: shape.n, Size: shape.size, Acks: mode.acks, Partitions: p, Idempotent: mode.idem})
			}
		}
	}
	return cells
}

// Config is one bench invocation.
type Config struct {
	Fsync       partition.FsyncPolicy // for the in-process Sluice
	Brokers     string                // comma-separated; bench this Sluice instead of starting one
	DataDir     string                // parent of the in-process Sluice's temp data dir; default os.TempDir()
	Scale       float64               // multiplies record counts; default 1
	Runs        int                   // repeats per cell; the report keeps the median; default 3
	Only        string                // substring filter on Cell.Name
	MaxBuffered int                   // kgo MaxBufferedRecords; default 10,000
	Cells       []Cell                // default Matrix()
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
		c.Cells = Matrix()
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
}

// records is the cell's record count after scaling, never below one.
func (c Config) records(cell Cell) int {
	return max(1, int(float64(cell.Records)*c.Scale))
}

// selected is the cells that pass --only.
func (c Config) selected() []Cell {
	var out []Cell
	for _, cell := range c.Cells {
		if strings.Contains(cell.Name(), c.Only) {
			out = append(out, cell)
		}
	}
	return out
}

// Run starts both targets, runs every selected cell Runs times against each
// and returns the medians. A failing cell is recorded in its Row and the
// bench goes on; the returned error is only for setup failures.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.setDefaults()
	cells := cfg.selected()
	if len(cells) == 0 {
		return nil, fmt.Errorf("no cell matches --only %q", cfg.Only)
	}
	sl, kf, err := startTargets(cfg)
	if err != nil {
		return nil, err
	}
	defer sl.close()
	defer kf.close()

	rep := newReport(cfg)
	for _, cell := range cells {
		// An interrupt stops the matrix rather than failing every cell left.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rep.Rows = append(rep.Rows, runCell(ctx, cfg, cell, sl, kf))
	}
	rep.finish()
	return rep, nil
}

func startTargets(cfg Config) (sl, kf *target, err error) {
	if cfg.Brokers != "" {
		sl = externalSluice(cfg.Brokers)
	} else if sl, err = startSluice(cfg); err != nil {
		return nil, nil, err
	}
	if kf, err = startKfake(); err != nil {
		sl.close()
		return nil, nil, err
	}
	return sl, kf, nil
}

// runCell alternates the targets run by run, so slow drift on the machine
// (page cache, thermal, neighbours) hits both columns alike.
func runCell(ctx context.Context, cfg Config, cell Cell, sl, kf *target) Row {
	row := Row{Cell: cell, Records: cfg.records(cell)}
	payload := make([]byte, cell.Size)
	rand.Read(payload)
	var slRuns, kfRuns []runResult
	for run := 1; run <= cfg.Runs; run++ {
		for _, t := range []*target{sl, kf} {
			r := runOnce(ctx, cfg, cell, row.Records, payload, t, run)
			if t == sl {
				slRuns = append(slRuns, r)
			} else {
				kfRuns = append(kfRuns, r)
			}
		}
	}
	row.Sluice, row.Kfake = summarize(slRuns), summarize(kfRuns)
	return row
}

// runOnce is one produce-then-consume pass on a fresh topic.
func runOnce(ctx context.Context, cfg Config, cell Cell, n int, payload []byte, t *target, run int) runResult {
	topic := fmt.Sprintf("bench-%s-%d-r%d-%d", strings.NewReplacer("/", "-", "=", "", "+", "-").Replace(cell.Name()), n, run, time.Now().UnixNano())
	r, err := produceConsume(ctx, cfg, cell, n, payload, t, topic)
	if err != nil {
		r.err = fmt.Errorf("%s %s run %d: %w", t.name, cell.Name(), run, err)
		fmt.Fprintf(cfg.Progress, "%-22s %-6s run %d: ERROR %v\n", cell.Name(), t.name, run, err)
		return r
	}
	fmt.Fprintf(cfg.Progress, "%-22s %-6s run %d: produce %s rec/s p50 %s p99 %s, consume %s rec/s\n",
		cell.Name(), t.name, run, fmtRate(r.produceRate), fmtDur(r.p50), fmtDur(r.p99), fmtRate(r.consumeRate))
	return r
}

func produceConsume(ctx context.Context, cfg Config, cell Cell, n int, payload []byte, t *target, topic string) (runResult, error) {
	if err := t.createTopic(ctx, topic, cell.Partitions); err != nil {
		return runResult{}, fmt.Errorf("create topic: %w", err)
	}
	// Deleting is hygiene, not measurement: a failure only costs space.
	defer t.deleteTopic(context.WithoutCancel(ctx), topic)
	pr, err := produce(ctx, t.addrs, topic, n, payload, cell, cfg.MaxBuffered)
	if err != nil {
		return runResult{}, fmt.Errorf("produce: %w", err)
	}
	cr, err := consume(ctx, t.addrs, topic, pr.records)
	r := measure(pr, cr, cell.Size)
	if err != nil {
		return r, fmt.Errorf("consume: %w", err)
	}
	return r, nil
}
