package partition

import (
	"time"

	"sluice/internal/commitlog"
)

// Compaction is a topic's log-compaction settings (cleanup.policy=compact).
type Compaction struct {
	Enabled          bool
	DeleteRetention  time.Duration // delete.retention.ms
	MinCompactionLag time.Duration // min.compaction.lag.ms
	MaxCompactionLag time.Duration // max.compaction.lag.ms; <= 0: none
	MinDirtyRatio    float64       // min.cleanable.dirty.ratio
}

// CleanOptions are the broker's side of a cleaning.
type CleanOptions struct {
	// Throttle is called with the bytes the cleaner read or wrote; it may
	// sleep to hold a rate, and an error aborts the cleaning.
	Throttle func(bytes int) error
	// MaxKeys bounds the cleaner's key map; 0: the log's default.
	MaxKeys int
}

// CleanStats describes what a cleaning at now would cover.
func (p *Partition) CleanStats(now time.Time) (commitlog.CleanStats, float64) {
	params, _ := p.cleanParams(now, CleanOptions{}, false)
	return p.log.CleanStats(params), params.MinDirtyRatio
}

// Clean compacts the partition's log below the high watermark and the
// active segment (see commitlog.Log.Clean). It does not hold the append
// lock while it works: produce goes on.
func (p *Partition) Clean(now time.Time, opts CleanOptions) (commitlog.CleanResult, error) {
	params, ok := p.cleanParams(now, opts, true)
	if !ok {
		return commitlog.CleanResult{}, nil
	}
	return p.log.Clean(params)
}

// cleanParams reads the topic's settings and, when withProducers, the
// producers' last offsets, under the append lock.
func (p *Partition) cleanParams(now time.Time, opts CleanOptions, withProducers bool) (commitlog.CleanParams, bool) {
	p.mu.Lock()
	c := p.cfg.Compaction
	var last map[int64]int64
	if withProducers {
		last = p.producerLastOffsetsLocked()
	}
	p.mu.Unlock()
	return commitlog.CleanParams{
		Now: now, MaxOffset: p.LastStableOffset(),
		DeleteRetention: c.DeleteRetention, MinCompactionLag: c.MinCompactionLag,
		MaxCompactionLag: c.MaxCompactionLag, MinDirtyRatio: c.MinDirtyRatio,
		MaxKeys: opts.MaxKeys, Throttle: opts.Throttle,
		IsLastOfProducer: func(id, lastOffset int64) bool {
			o, ok := last[id]
			return ok && o == lastOffset
		},
	}, c.Enabled
}

// producerLastOffsetsLocked maps each producer with state to the last
// offset of its last batch. Requires p.mu.
func (p *Partition) producerLastOffsetsLocked() map[int64]int64 {
	out := make(map[int64]int64, p.producers.Len())
	for _, pr := range p.producers.Producers() {
		if o, ok := p.producers.LastOffset(pr.ProducerID); ok {
			out[pr.ProducerID] = o
		}
	}
	return out
}
