package metadata

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TopicConfig is a topic's effective settings: broker defaults overlaid
// with the topic's own keys.
type TopicConfig struct {
	RetentionMs     int64 // -1: unlimited
	RetentionBytes  int64 // -1: unlimited
	SegmentBytes    int64
	SegmentMs       int64
	MaxMessageBytes int32
	LogAppendTime   bool // message.timestamp.type=LogAppendTime
	// TimestampBeforeMaxMs and TimestampAfterMaxMs bound how far before
	// and after the broker's clock a record's CreateTime may be
	// (message.timestamp.before.max.ms and .after.max.ms, KIP-937);
	// math.MaxInt64, the default, is no bound.
	TimestampBeforeMaxMs int64
	TimestampAfterMaxMs  int64
	CleanupPolicy        string
	MinInsyncReplicas    int32
	Compaction           CompactionConfig // used when CleanupPolicy includes compact
}

// ConfigSpec describes one topic config key Sluice knows.
type ConfigSpec struct {
	Name     string
	Default  string
	Enforced bool // false: accepted and reported, not acted on (yet)
	validate func(string) error
}

// Names of the enforced keys.
const (
	CfgRetentionMs       = "retention.ms"
	CfgRetentionBytes    = "retention.bytes"
	CfgSegmentBytes      = "segment.bytes"
	CfgSegmentMs         = "segment.ms"
	CfgMaxMessageBytes   = "max.message.bytes"
	CfgTimestampType     = "message.timestamp.type"
	CfgTimestampBefore   = "message.timestamp.before.max.ms"
	CfgTimestampAfter    = "message.timestamp.after.max.ms"
	CfgCleanupPolicy     = "cleanup.policy"
	CfgMinInsyncReplicas = "min.insync.replicas"
)

// minSegmentBytes is Kafka's minimum: a batch bigger than segment.bytes
// gets a segment to itself, so any size works, and clients' tests of
// compaction use a few hundred bytes to roll segments cheaply.
const minSegmentBytes = 14

var specs = []ConfigSpec{
	{CfgCleanupPolicy, "delete", true, oneOfList("delete", "compact")},
	{CfgMaxMessageBytes, "1048588", true, intRange(0, 1<<31-1)},
	{CfgTimestampType, "CreateTime", true, oneOf("CreateTime", "LogAppendTime")},
	{CfgTimestampAfter, "9223372036854775807", true, intRange(0, 1<<63-1)},
	{CfgTimestampBefore, "9223372036854775807", true, intRange(0, 1<<63-1)},
	{CfgMinInsyncReplicas, "1", true, intRange(1, 1<<31-1)},
	{CfgRetentionBytes, "-1", true, intRange(-1, 1<<63-1)},
	{CfgRetentionMs, "604800000", true, intRange(-1, 1<<63-1)},
	{CfgSegmentBytes, "1073741824", true, intRange(minSegmentBytes, 1<<31-1)},
	{CfgSegmentMs, "604800000", true, intRange(1, 1<<63-1)},
	// Log compaction (cleanup.policy=compact).
	{CfgDeleteRetentionMs, "86400000", true, intRange(0, 1<<63-1)},
	{CfgMaxCompactionLagMs, "9223372036854775807", true, intRange(1, 1<<63-1)},
	{CfgMinCleanableDirtyRatio, "0.5", true, floatRange(0, 1)},
	{CfgMinCompactionLagMs, "0", true, intRange(0, 1<<63-1)},
	// Accepted so that tools which set them keep working; Sluice does not act on them.
	{"compression.type", "producer", false, oneOf("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd")},
	{"file.delete.delay.ms", "60000", false, intRange(0, 1<<63-1)},
	{"flush.messages", "9223372036854775807", false, intRange(1, 1<<63-1)},
	{"flush.ms", "9223372036854775807", false, intRange(0, 1<<63-1)},
	{"index.interval.bytes", "4096", false, intRange(0, 1<<31-1)},
	{"preallocate", "false", false, oneOf("true", "false")},
	{"segment.index.bytes", "10485760", false, intRange(4, 1<<31-1)},
	{"segment.jitter.ms", "0", false, intRange(0, 1<<63-1)},
	{"unclean.leader.election.enable", "false", false, oneOf("true", "false")},
}

// Specs returns every known topic config key, sorted by name.
func Specs() []ConfigSpec { return specs }

// Spec returns the spec of a known key.
func Spec(name string) (ConfigSpec, bool) {
	i := slices.IndexFunc(specs, func(s ConfigSpec) bool { return s.Name == name })
	if i < 0 {
		return ConfigSpec{}, false
	}
	return specs[i], true
}

// ValidateConfig checks one key and value; the error names both.
func ValidateConfig(name, value string) error {
	if _, ok := Spec(name); !ok {
		return fmt.Errorf("unknown topic config %q", name)
	}
	if err := CheckValue(name, value); err != nil {
		return fmt.Errorf("invalid value %q for %s: %v", value, name, err)
	}
	return nil
}

// CheckValue says why a value is bad for a known key ("not an integer",
// "out of range [...]"), without naming either: for callers that name
// them their own way (the broker's settings that default a topic config).
func CheckValue(name, value string) error {
	s, ok := Spec(name)
	if !ok {
		return fmt.Errorf("unknown topic config %q", name)
	}
	if s.validate == nil {
		return nil
	}
	return s.validate(value)
}

// Resolve returns the effective config of a topic with the given keys.
// Keys are validated before they are stored, so a parse failure here
// falls back to the default.
func Resolve(set map[string]string) TopicConfig {
	get := func(k string) string {
		if v, ok := set[k]; ok {
			return v
		}
		s, _ := Spec(k)
		return s.Default
	}
	num := func(k string) int64 {
		v, err := strconv.ParseInt(get(k), 10, 64)
		if err != nil {
			s, _ := Spec(k)
			v, _ = strconv.ParseInt(s.Default, 10, 64)
		}
		return v
	}
	return TopicConfig{
		RetentionMs:          num(CfgRetentionMs),
		RetentionBytes:       num(CfgRetentionBytes),
		SegmentBytes:         num(CfgSegmentBytes),
		SegmentMs:            num(CfgSegmentMs),
		MaxMessageBytes:      int32(num(CfgMaxMessageBytes)),
		LogAppendTime:        get(CfgTimestampType) == "LogAppendTime",
		TimestampBeforeMaxMs: num(CfgTimestampBefore),
		TimestampAfterMaxMs:  num(CfgTimestampAfter),
		CleanupPolicy:        get(CfgCleanupPolicy),
		MinInsyncReplicas:    int32(num(CfgMinInsyncReplicas)),
		Compaction:           resolveCompaction(get, num),
	}
}

// Retention returns the retention age as a duration (negative: unlimited).
func (c TopicConfig) Retention() time.Duration {
	if c.RetentionMs < 0 {
		return -1
	}
	return time.Duration(c.RetentionMs) * time.Millisecond
}

func intRange(lo, hi int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		if n < lo || n > hi {
			return fmt.Errorf("out of range [%d, %d]", lo, hi)
		}
		return nil
	}
}

func oneOf(allowed ...string) func(string) error {
	return func(v string) error {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
		}
		return nil
	}
}

// oneOfList accepts a comma-separated list of allowed values.
func oneOfList(allowed ...string) func(string) error {
	one := oneOf(allowed...)
	return func(v string) error {
		for _, p := range strings.Split(v, ",") {
			if err := one(strings.TrimSpace(p)); err != nil {
				return err
			}
		}
		return nil
	}
}
