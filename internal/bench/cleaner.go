package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/broker"
)

// The cleaner bench answers one question: how much does the log cleaner,
// busy on one compacted topic, slow produce to another topic? It runs on
// an in-process Sluice only (the cleaner is triggered directly, so that
// it is busy exactly while produce is measured), alternating runs without
// and with the cleaner, and reports medians and their ratio.

// CleanerReport is the result of RunCleaner.
type CleanerReport struct {
	Info       string
	Cell       Cell
	Records    int // produced per run
	LoadRecs   int // records in the compacted topic each cleaning works on
	Alone      Summary
	WithClean  Summary
	Overlapped int // runs in which the cleaner was still busy when produce ended
}

// cleanerCell is the produce workload: small records, acks=all, one partition.
var cleanerCell = Cell{Records: 1_000_000, Size: 100, Acks: AcksAll, Partitions: 1}

// RunCleaner runs cfg.Runs pairs of runs (alone first, so that no cleaning
// of an earlier run's topic is pending); cleanerIO is the cleaner's
// --log-cleaner-io-max-bytes-per-second (<= 0 unlimited).
func RunCleaner(ctx context.Context, cfg Config, cleanerIO int64) (*CleanerReport, error) {
	cfg.setDefaults()
	b, dir, err := startBroker(cfg, func(c *broker.Config) {
		c.CleanerBackoff = 24 * time.Hour // cleaned only when the bench says so
		c.CleanerIOMaxBytesPerSecond = cleanerIO
	})
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	defer b.Close()
	addrs := []string{b.Addr()}
	limit := fmt.Sprintf("%d B/s", cleanerIO)
	switch {
	case cleanerIO == 0:
		limit = "the broker's default"
	case cleanerIO < 0:
		limit = "unlimited"
	}
	rep := &CleanerReport{Info: newReport(cfg).Info + ", cleaner I/O limit " + limit,
		Cell: cleanerCell, Records: cfg.records(cleanerCell), LoadRecs: 3 * cfg.records(cleanerCell)}
	payload := make([]byte, cleanerCell.Size)
	rand.Read(payload)
	var alone, with []runResult
	for run := 1; run <= cfg.Runs && ctx.Err() == nil; run++ {
		alone = append(alone, cleanerRun(ctx, cfg, addrs, rep, payload, run, nil))
		with = append(with, cleanerRun(ctx, cfg, addrs, rep, payload, run, b))
	}
	rep.Alone, rep.WithClean = summarize(alone), summarize(with)
	return rep, ctx.Err()
}

// cleanerRun is one produce-then-consume pass on a fresh topic. Both
// modes first fill a compacted topic, so that the disk has the same
// writeback to do; with b set, its cleaning runs while produce is measured.
func cleanerRun(ctx context.Context, cfg Config, addrs []string, rep *CleanerReport, payload []byte, run int, b *broker.Broker) runResult {
	mode := "alone"
	load := fmt.Sprintf("bench-compacted-r%d-%d", run, time.Now().UnixNano())
	if err := fillCompacted(ctx, addrs, load, rep.LoadRecs, payload); err != nil {
		return runResult{err: fmt.Errorf("fill compacted topic: %w", err)}
	}
	defer deleteTopic(addrs, load)
	var busy <-chan error
	if b != nil {
		mode = "with-cleaner"
		busy = cleanInBackground(ctx, b)
	}
	topic := fmt.Sprintf("bench-cleaner-%s-r%d-%d", mode, run, time.Now().UnixNano())
	t := &target{kind: KindSluice, addrs: addrs}
	r, err := onTopic(ctx, t, topic, rep.Cell.Partitions, func() (runResult, error) {
		return produceThenConsume(ctx, cfg, rep.Cell, rep.Records, payload, t, topic)
	})
	if err != nil {
		r.err = err
	}
	if busy != nil {
		r.err = errors.Join(r.err, waitCleaner(busy, rep))
	}
	fmt.Fprintf(cfg.Progress, "%-14s run %d: produce %s rec/s p50 %s p99 %s, consume %s rec/s\n",
		mode, run, fmtRate(r.produceRate), fmtDur(r.p50), fmtDur(r.p99), fmtRate(r.consumeRate))
	return r
}

// cleanInBackground starts a cleaner pass; the channel yields its result.
func cleanInBackground(ctx context.Context, b *broker.Broker) <-chan error {
	done := make(chan error, 1)
	go func() {
		n, err := b.CleanNow(ctx)
		if err == nil && n == 0 {
			err = errors.New("the cleaner found nothing to clean")
		}
		done <- err
	}()
	return done
}

// waitCleaner waits for the pass, counting the runs it outlasted.
func waitCleaner(busy <-chan error, rep *CleanerReport) error {
	select {
	case err := <-busy:
		return err // it finished before produce did: this run did not overlap fully
	default:
	}
	rep.Overlapped++
	return <-busy
}

// fillCompacted writes n keyed records (n/10 keys, ten values each) to a
// new compacted topic of four partitions with 4 MiB segments, so nearly
// all of it is dirty and below the active segments.
func fillCompacted(ctx context.Context, addrs []string, topic string, n int, payload []byte) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RequiredAcks(kgo.LeaderAck()),
		kgo.DisableIdempotentWrite(), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return err
	}
	defer cl.Close()
	cfgs := map[string]*string{"cleanup.policy": ptr("compact"), "segment.bytes": ptr(strconv.Itoa(4 << 20)),
		"min.cleanable.dirty.ratio": ptr("0.01")}
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 4, 1, cfgs, topic); err != nil {
		return err
	}
	keys := max(1, n/10)
	var failed atomic.Pointer[error]
	for i := range n {
		key := []byte(strconv.Itoa(i % keys))
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: key, Value: payload}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	if p := failed.Load(); p != nil {
		return *p
	}
	return nil
}

func ptr(s string) *string { return &s }

func deleteTopic(addrs []string, topic string) {
	t := &target{addrs: addrs}
	_ = t.deleteTopic(context.Background(), topic)
}

// WriteMarkdown prints the comparison.
func (r *CleanerReport) WriteMarkdown(w io.Writer) error {
	ratio := 0.0
	if r.Alone.ProduceRate > 0 {
		ratio = r.WithClean.ProduceRate / r.Alone.ProduceRate
	}
	_, err := fmt.Fprintf(w, "%s\n\nproduce %d × %s, acks=all, p1; the cleaner compacts %d records (4 partitions) meanwhile; cleaner still busy when produce ended in %d of %d runs\n\n"+
		"| | produce rec/s | p50 | p99 | consume rec/s |\n|---|---|---|---|---|\n"+
		"| produce alone | %s | %s | %s | %s |\n| produce while the cleaner runs | %s | %s | %s | %s |\n\n"+
		"with cleaner / alone (produce, medians of %d): %.2f\n",
		r.Info, r.Records, sizeName(r.Cell.Size), r.LoadRecs, r.Overlapped, r.WithClean.Runs,
		fmtRate(r.Alone.ProduceRate), fmtDur(r.Alone.P50), fmtDur(r.Alone.P99), fmtRate(r.Alone.ConsumeRate),
		fmtRate(r.WithClean.ProduceRate), fmtDur(r.WithClean.P50), fmtDur(r.WithClean.P99), fmtRate(r.WithClean.ConsumeRate),
		r.Alone.Runs, ratio)
	return err
}

// startBroker starts an in-process Sluice in a fresh data dir under
// cfg.DataDir, with mutate applied to its config.
func startBroker(cfg Config, mutate func(*broker.Config)) (*broker.Broker, string, error) {
	dir, err := os.MkdirTemp(cfg.DataDir, "sluice-bench-")
	if err != nil {
		return nil, "", fmt.Errorf("sluice data dir: %w", err)
	}
	bc := broker.Config{Listen: "127.0.0.1:0", DataDir: dir, Fsync: cfg.Fsync, Logger: slog.New(slog.DiscardHandler),
		TxnStatePartitions: cfg.TxnStatePartitions, Journal: cfg.Journal}
	if mutate != nil {
		mutate(&bc)
	}
	b, err := broker.Start(bc)
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("start sluice: %w", err)
	}
	return b, dir, nil
}
