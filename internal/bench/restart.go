package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// RestartConfig is the restart mode: a Sluice (`sluice serve`, a child
// process) with Partitions partitions holding Records records of Size
// bytes each is stopped cleanly and started again, then killed with
// SIGKILL while a producer writes and started again.
type RestartConfig struct {
	Partitions int32 // default 1,000
	Records    int   // per partition; default 100
	Size       int   // default 1 KiB
}

func (c *RestartConfig) setDefaults() {
	if c.Partitions <= 0 {
		c.Partitions = 1000
	}
	if c.Records <= 0 {
		c.Records = 100
	}
	if c.Size <= 0 {
		c.Size = 1024
	}
}

// RestartReport is the restart mode's result: medians over the runs.
type RestartReport struct {
	Info           string
	Config         RestartConfig
	Clean, Unclean RestartSummary
	Errs           []error
}

// RestartSummary is one kind of restart. Ready is from starting the
// process to its serving line; Startup is the broker's own account of
// the same (opening and recovering the data dir, from its log); Answered
// is from starting the process to a ListOffsets of every partition
// answered.
type RestartSummary struct {
	Runs                     int
	Ready, Startup, Answered time.Duration
	ready, startup, answered []float64
}

func (s *RestartSummary) add(p *serveProcess, answered time.Duration) {
	s.Runs++
	s.ready, s.startup, s.answered = append(s.ready, float64(p.ready)), append(s.startup, float64(p.startup)), append(s.answered, float64(answered))
	s.Ready, s.Startup, s.Answered = time.Duration(median(s.ready)), time.Duration(median(s.startup)), time.Duration(median(s.answered))
}

// RunRestart runs the restart mode cfg.Runs times, each in a fresh data
// dir under cfg.DataDir.
func RunRestart(ctx context.Context, cfg Config) (*RestartReport, error) {
	cfg.setDefaults()
	cfg.Restart.setDefaults()
	bin := cfg.Binary
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	rep := &RestartReport{Info: newReport(cfg).Info, Config: cfg.Restart}
	for run := 1; run <= cfg.Runs; run++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := restartOnce(ctx, cfg, bin, rep, run); err != nil {
			rep.Errs = append(rep.Errs, fmt.Errorf("run %d: %w", run, err))
			fmt.Fprintf(cfg.Progress, "restart run %d: ERROR %v\n", run, err)
		}
	}
	rep.Info += ", at end " + loadAvg()
	return rep, nil
}

func restartOnce(ctx context.Context, cfg Config, bin string, rep *RestartReport, run int) error {
	dir, err := os.MkdirTemp(cfg.DataDir, "sluice-restart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rc := cfg.Restart
	p, err := startServe(bin, dir, cfg.Fsync.String())
	if err != nil {
		return err
	}
	defer func() { p.kill() }()
	const topic = "restart"
	t := &target{addrs: []string{p.addr}}
	if err := t.createTopic(ctx, topic, rc.Partitions); err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	total := int64(rc.Partitions) * int64(rc.Records)
	if err := fill(ctx, p.addr, topic, rc, int(total)); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	// Clean: SIGTERM, start again.
	if err := p.stop(); err != nil {
		return err
	}
	if p, err = startServe(bin, dir, cfg.Fsync.String()); err != nil {
		return fmt.Errorf("clean restart: %w", err)
	}
	answered, err := answerAll(ctx, p, topic, rc.Partitions, total)
	if err != nil {
		return fmt.Errorf("after the clean restart: %w", err)
	}
	rep.Clean.add(p, answered)
	fmt.Fprintf(cfg.Progress, "restart run %d: clean: serving after %s (broker startup %s), every partition answered after %s\n",
		run, fmtDur(p.ready), fmtDur(p.startup), fmtDur(answered))
	// Unclean: SIGKILL while a producer writes, start again.
	acked, err := killWhileWriting(ctx, p, topic, rc)
	if err != nil {
		return err
	}
	if p, err = startServe(bin, dir, cfg.Fsync.String()); err != nil {
		return fmt.Errorf("restart after kill -9: %w", err)
	}
	answered, err = answerAll(ctx, p, topic, rc.Partitions, total+acked)
	if err != nil {
		return fmt.Errorf("after kill -9: %w", err)
	}
	rep.Unclean.add(p, answered)
	fmt.Fprintf(cfg.Progress, "restart run %d: kill -9 (%d records acknowledged while writing): serving after %s (broker startup %s), every partition answered after %s\n",
		run, acked, fmtDur(p.ready), fmtDur(p.startup), fmtDur(answered))
	return p.stop()
}

// fill writes n records round robin over the partitions, idempotent and
// acks=all (kgo's defaults), so that producer state is recovered too.
func fill(ctx context.Context, addr, topic string, rc RestartConfig, n int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return err
	}
	defer cl.Close()
	payload := make([]byte, rc.Size)
	rand.Read(payload)
	i := int32(0)
	return produceEach(ctx, cl, n, func() *kgo.Record {
		r := &kgo.Record{Partition: i % rc.Partitions, Value: payload}
		i++
		return r
	})
}

// answerAll lists every partition's end offset, which needs every
// partition open, and checks that at least want records are there.
func answerAll(ctx context.Context, p *serveProcess, topic string, partitions int32, want int64) (time.Duration, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.addr))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	answered := p.ready + time.Since(p.readyAt)
	var sum int64
	var n int32
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			sum += o.Offset
			n++
		}
	})
	if n != partitions || sum < want {
		return 0, fmt.Errorf("%d of %d partitions answered, holding %d records; want every partition and at least %d", n, partitions, sum, want)
	}
	return answered, nil
}

// killWhileWriting produces round robin, acks=all, until about a second
// of records were acknowledged, then kills the broker with SIGKILL in the
// middle of writing; it returns how many records were acknowledged.
func killWhileWriting(ctx context.Context, p *serveProcess, topic string, rc RestartConfig) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.addr), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	payload := make([]byte, rc.Size)
	var acked atomic.Int64
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for i := int32(0); wctx.Err() == nil; i++ {
			cl.Produce(wctx, &kgo.Record{Partition: i % rc.Partitions, Value: payload}, func(_ *kgo.Record, err error) {
				if err == nil {
					acked.Add(1)
				}
			})
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && acked.Load() < int64(rc.Partitions)*10 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second)
	p.kill()
	n := acked.Load() // acknowledgements read after the kill were all sent before it
	cancel()
	if n == 0 {
		return 0, errors.New("no record was acknowledged before the kill")
	}
	return n, nil
}

// Err joins every failed run's error.
func (r *RestartReport) Err() error { return errors.Join(r.Errs...) }

// WriteMarkdown writes the info line and the table.
func (r *RestartReport) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "%s\n\n%s partitions × %d records × %s (idempotent producer), medians of %d runs:\n\n",
		r.Info, fmtCount(int(c.Partitions)), c.Records, sizeName(c.Size), r.Clean.Runs)
	b.WriteString("| restart | serving (exec to listening) | broker startup (its log) | every partition answered |\n|---|--:|--:|--:|\n")
	for _, row := range []struct {
		name string
		s    RestartSummary
	}{{"clean (SIGTERM)", r.Clean}, {"after kill -9 while writing", r.Unclean}} {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", row.name, fmtDur(row.s.Ready), fmtDur(row.s.Startup), fmtDur(row.s.Answered))
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(&b, "\nErrors:\n\n```\n%v\n```\n", err)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
