package metadata

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Names of the log-compaction keys.
const (
	CfgDeleteRetentionMs      = "delete.retention.ms"
	CfgMinCleanableDirtyRatio = "min.cleanable.dirty.ratio"
	CfgMinCompactionLagMs     = "min.compaction.lag.ms"
	CfgMaxCompactionLagMs     = "max.compaction.lag.ms"
)

// CompactionConfig is what the log cleaner needs of a compacted topic.
type CompactionConfig struct {
	DeleteRetentionMs  int64
	MinDirtyRatio      float64
	MinCompactionLagMs int64
	MaxCompactionLagMs int64
}

func resolveCompaction(get func(string) string, num func(string) int64) CompactionConfig {
	ratio, err := strconv.ParseFloat(get(CfgMinCleanableDirtyRatio), 64)
	if err != nil {
		ratio = 0.5
	}
	return CompactionConfig{
		DeleteRetentionMs:  num(CfgDeleteRetentionMs),
		MinDirtyRatio:      ratio,
		MinCompactionLagMs: num(CfgMinCompactionLagMs),
		MaxCompactionLagMs: num(CfgMaxCompactionLagMs),
	}
}

// Compact reports whether cleanup.policy includes compact.
func (c TopicConfig) Compact() bool { return c.hasPolicy("compact") }

// Delete reports whether cleanup.policy includes delete: only then do
// retention.ms and retention.bytes delete segments.
func (c TopicConfig) Delete() bool { return c.hasPolicy("delete") }

func (c TopicConfig) hasPolicy(p string) bool {
	return slices.ContainsFunc(strings.Split(c.CleanupPolicy, ","), func(s string) bool {
		return strings.TrimSpace(s) == p
	})
}

// Millis converts a millisecond config to a duration, saturating instead
// of overflowing (max.compaction.lag.ms defaults to the largest int64).
func Millis(ms int64) time.Duration {
	if ms > int64(1<<63-1)/int64(time.Millisecond) {
		return 1<<63 - 1
	}
	return time.Duration(ms) * time.Millisecond
}

func floatRange(lo, hi float64) func(string) error {
	return func(v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		if f < lo || f > hi {
			return fmt.Errorf("out of range [%g, %g]", lo, hi)
		}
		return nil
	}
}
