package topics

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"sluice/internal/commitlog"
	"sluice/internal/metadata"
	"sluice/internal/partition"
)

// logConfig is a topic's roll and retention settings. Retention deletes
// segments only when cleanup.policy includes delete: a compact-only topic
// keeps the latest value of every key for ever. A compacted topic rolls
// by max.compaction.lag.ms too (as Kafka does), so that records in the
// active segment, which is never cleaned, cannot wait longer than that.
func logConfig(tc metadata.TopicConfig, logger *slog.Logger) commitlog.Config {
	cfg := commitlog.Config{
		SegmentBytes:   tc.SegmentBytes,
		SegmentAge:     metadata.Millis(tc.SegmentMs),
		RetentionBytes: tc.RetentionBytes,
		RetentionAge:   tc.Retention(),
		Logger:         logger,
	}
	if !tc.Delete() {
		cfg.RetentionBytes, cfg.RetentionAge = -1, -1
	}
	if tc.Compact() {
		cfg.SegmentAge = min(cfg.SegmentAge, metadata.Millis(tc.Compaction.MaxCompactionLagMs))
	}
	return cfg
}

func compaction(tc metadata.TopicConfig) partition.Compaction {
	c := tc.Compaction
	return partition.Compaction{
		Enabled:          tc.Compact(),
		DeleteRetention:  metadata.Millis(c.DeleteRetentionMs),
		MinCompactionLag: metadata.Millis(c.MinCompactionLagMs),
		MaxCompactionLag: metadata.Millis(c.MaxCompactionLagMs),
		MinDirtyRatio:    c.MinDirtyRatio,
	}
}

// CleanerConfig configures the log cleaner. Zero values take the defaults.
type CleanerConfig struct {
	// Backoff is how long the cleaner sleeps when no log needs cleaning
	// (log.cleaner.backoff.ms). 0 => 15s.
	Backoff time.Duration
	// IOMaxBytesPerSecond caps the bytes the cleaner reads and writes per
	// second (log.cleaner.io.max.bytes.per.second). <= 0: unlimited.
	IOMaxBytesPerSecond int64
}

// Cleaner is the broker's one log-cleaner goroutine: it cleans the
// dirtiest due compacted partition, then looks again, and sleeps for the
// backoff when none is due. Internal topics keep their own scheme
// (__consumer_offsets snapshots) and are never cleaned here.
type Cleaner struct {
	m    *Manager
	cfg  CleanerConfig
	kick chan chan int
}

// NewCleaner returns a cleaner over the manager's topics; Run starts it.
func (m *Manager) NewCleaner(cfg CleanerConfig) *Cleaner {
	if cfg.Backoff <= 0 {
		cfg.Backoff = 15 * time.Second
	}
	return &Cleaner{m: m, cfg: cfg, kick: make(chan chan int)}
}

// Run cleans until ctx ends.
func (c *Cleaner) Run(ctx context.Context) {
	timer := time.NewTimer(c.cfg.Backoff)
	defer timer.Stop()
	for {
		var reply chan int
		select {
		case <-ctx.Done():
			return
		case reply = <-c.kick:
		case <-timer.C:
		}
		n := c.pass(ctx)
		if reply != nil {
			reply <- n
		}
		timer.Reset(c.cfg.Backoff)
	}
}

// Pass asks the cleaner to clean every due partition now and waits for
// it; it returns how many partitions were cleaned. Tests use it instead of
// waiting for the backoff.
func (c *Cleaner) Pass(ctx context.Context) (int, error) {
	reply := make(chan int, 1)
	select {
	case c.kick <- reply:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	select {
	case n := <-reply:
		return n, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// pass cleans due partitions, dirtiest first, each at most once.
func (c *Cleaner) pass(ctx context.Context) int {
	done := map[*partition.Partition]bool{}
	for ctx.Err() == nil {
		t, p := c.dirtiest(done)
		if p == nil {
			break
		}
		done[p] = true
		c.clean(ctx, t, p)
	}
	return len(done)
}

// dirtiest returns the due partition with the highest dirty ratio.
func (c *Cleaner) dirtiest(skip map[*partition.Partition]bool) (*Topic, *partition.Partition) {
	now := c.m.cfg.Clock()
	var best *partition.Partition
	var bestTopic *Topic
	bestRatio := -1.0
	for _, t := range c.m.All() {
		if IsInternal(t.Name) || !t.Config.Compact() {
			continue
		}
		for _, p := range t.Partitions {
			st, minRatio := p.CleanStats(now)
			if skip[p] || !st.Due(minRatio) || st.DirtyRatio() <= bestRatio {
				continue
			}
			best, bestTopic, bestRatio = p, t, st.DirtyRatio()
		}
	}
	return bestTopic, best
}

func (c *Cleaner) clean(ctx context.Context, t *Topic, p *partition.Partition) {
	logger := c.m.cfg.Logger
	start := time.Now()
	res, err := p.Clean(c.m.cfg.Clock(), partition.CleanOptions{Throttle: newThrottle(ctx, c.cfg.IOMaxBytesPerSecond)})
	switch {
	case errors.Is(err, commitlog.ErrClosed) || ctx.Err() != nil:
		logger.Info("cleaner: cleaning stopped", "topic", t.Name, "partition", p.Index)
	case err != nil:
		logger.Error("cleaner: cleaning failed", "topic", t.Name, "partition", p.Index, "err", err)
	default:
		logger.Info("cleaner: cleaned", "topic", t.Name, "partition", p.Index, "dirtyRatio", res.DirtyRatio(),
			"bytesBefore", res.BytesBefore, "bytesAfter", res.BytesAfter, "recordsDropped", res.RecordsDropped,
			"took", time.Since(start).String())
	}
}

// newThrottle returns a Throttle that sleeps so that the bytes reported
// average at most rate per second over the cleaning; it fails once ctx
// ends, which aborts the cleaning at shutdown.
func newThrottle(ctx context.Context, rate int64) func(int) error {
	start, total := time.Now(), int64(0)
	return func(n int) error {
		if rate <= 0 {
			return ctx.Err()
		}
		total += int64(n)
		wait := time.Until(start.Add(time.Duration(float64(total) / float64(rate) * float64(time.Second))))
		if wait <= 0 {
			return ctx.Err()
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
