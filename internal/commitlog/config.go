package commitlog

import (
	"log/slog"
	"math"
	"time"
)

// Config holds the roll and retention settings of one log. Zero values
// mean the defaults documented on each field.
type Config struct {
	// SegmentBytes: roll the active segment before an append that would
	// make it exceed this. 0 => 1 GiB. Capped at 2 GiB because index
	// entries hold 32-bit positions.
	SegmentBytes int64
	// SegmentAge: roll when the active segment's first append is older
	// than this. 0 => 7 days.
	SegmentAge time.Duration
	// IndexIntervalBytes: bytes of log between offset index entries. 0 => 4096.
	IndexIntervalBytes int
	// RetentionBytes: total size above which oldest segments are deleted.
	// <0 unlimited; 0 => -1.
	RetentionBytes int64
	// RetentionAge: delete segments whose newest timestamp is older than
	// this. <0 unlimited; 0 => 7 days.
	RetentionAge time.Duration
	// PreallocateBytes bounds how far the active segment's file is
	// extended with zeros ahead of its appends (preallocate.go). 0 =>
	// 1 MiB; <0 => off: each append grows the file.
	PreallocateBytes int64
	// CleanShutdown tells Open that the log was closed cleanly, every
	// byte synced: nothing can be torn, so recovery cuts nothing and
	// refuses a segment that does not read. Used only by Open.
	CleanShutdown bool
	// Logger: nil => discard. SetConfig keeps the logger given to Open.
	Logger *slog.Logger
}

const (
	defaultSegmentBytes  = 1 << 30
	maxSegmentBytes      = math.MaxInt32
	defaultSegmentAge    = 7 * 24 * time.Hour
	defaultIndexInterval = 4096
	defaultRetentionAge  = 7 * 24 * time.Hour
	defaultPreallocate   = 1 << 20
)

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.SegmentBytes <= 0 {
		c.SegmentBytes = defaultSegmentBytes
	}
	c.SegmentBytes = min(c.SegmentBytes, maxSegmentBytes)
	if c.SegmentAge <= 0 {
		c.SegmentAge = defaultSegmentAge
	}
	if c.IndexIntervalBytes <= 0 {
		c.IndexIntervalBytes = defaultIndexInterval
	}
	if c.RetentionBytes == 0 {
		c.RetentionBytes = -1
	}
	if c.RetentionAge == 0 {
		c.RetentionAge = defaultRetentionAge
	}
	if c.PreallocateBytes == 0 {
		c.PreallocateBytes = defaultPreallocate
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
