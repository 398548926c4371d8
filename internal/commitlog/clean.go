package commitlog

import (
	"errors"
	"fmt"
	"time"

	"sluice/internal/recordbatch"
)

// Log compaction (cleanup.policy=compact), Kafka's algorithm:
//
//  1. The cleanable range is the segments below the first uncleanable
//     offset: the active segment's base, the high watermark (MaxOffset),
//     and the base of the first segment holding a record newer than
//     now - MinCompactionLag. Of it, the segments at or past the cleaner
//     checkpoint (CleanedTo) are dirty; the ones below are clean.
//  2. A key -> last offset map is built over the dirty segments.
//  3. Every segment from the log start to the end of the dirty range is
//     rewritten, in groups of consecutive segments of at most SegmentBytes,
//     keeping a record iff no later record has its key (a key found only
//     in the clean range is not in the map: it was the latest when it was
//     cleaned and still is). Offsets never change; readers skip the gaps.
//  4. Each group's output replaces its segments by the swap protocol of
//     clean_swap.go, and the checkpoint moves to the end of the dirty range.
//
// Time is an argument (CleanParams.Now): nothing in here reads a clock.

// CleanParams are the settings and the moment of one cleaning.
type CleanParams struct {
	Now time.Time
	// MaxOffset is the last stable offset: nothing at or above it is
	// cleaned, so every transaction in the cleaned range is decided.
	MaxOffset int64
	// DeleteRetention is delete.retention.ms: how long a tombstone stays
	// after the first cleaning that sees it.
	DeleteRetention time.Duration
	// MinCompactionLag is min.compaction.lag.ms: a segment holding a record
	// younger than this is not cleaned.
	MinCompactionLag time.Duration
	// MaxCompactionLag is max.compaction.lag.ms (KIP-354): a log whose
	// oldest dirty record is older than this is cleanable whatever its
	// dirty ratio. <= 0: none.
	MaxCompactionLag time.Duration
	// MinDirtyRatio is min.cleanable.dirty.ratio.
	MinDirtyRatio float64
	// MaxKeys bounds the key map; the dirty range is cut at the segment
	// where it fills (at least one segment is taken). 0 => 4,000,000.
	MaxKeys int
	// IsLastOfProducer reports whether the batch of an idempotent producer
	// ending at lastOffset is that producer's last one in the log. Such a
	// batch is kept (as an empty header if all its records go). nil: none.
	IsLastOfProducer func(producerID, lastOffset int64) bool
	// Throttle is called with the bytes the cleaner read or wrote and may
	// sleep to hold a rate; an error aborts the cleaning. nil: unthrottled.
	Throttle func(bytes int) error
}

const defaultMaxKeys = 4_000_000

// CleanStats describes the cleanable range of a log.
type CleanStats struct {
	FirstDirty int64 // the cleaner checkpoint, at least the log start
	End        int64 // first uncleanable offset (a segment boundary)
	CleanBytes int64
	DirtyBytes int64
	// MaxLagDue: the oldest dirty record is older than MaxCompactionLag.
	MaxLagDue bool
	// HorizonDue: a tombstone kept by an earlier cleaning has reached its
	// delete horizon. Known since the last cleaning of this process only:
	// after a restart, tombstones go at the next cleaning that dirt causes.
	HorizonDue bool
}

// DirtyRatio is dirty bytes / (clean + dirty bytes) of the cleanable range.
func (s CleanStats) DirtyRatio() float64 {
	if total := s.CleanBytes + s.DirtyBytes; total > 0 {
		return float64(s.DirtyBytes) / float64(total)
	}
	return 0
}

// Due reports whether the log should be cleaned now: it has dirty bytes
// and its dirty ratio reaches minRatio or its max compaction lag passed.
func (s CleanStats) Due(minRatio float64) bool {
	return (s.DirtyBytes > 0 && (s.DirtyRatio() >= minRatio || s.MaxLagDue)) || s.HorizonDue
}

// CleanResult says what a cleaning did.
type CleanResult struct {
	CleanStats
	Groups         int   // groups of segments replaced
	SegmentsBefore int   // segments rewritten
	BytesBefore    int64 // their bytes
	BytesAfter     int64 // bytes of what replaced them
	RecordsDropped int64
}

// CleanedTo returns the cleaner checkpoint: the offset below which the log
// was cleaned.
func (l *Log) CleanedTo() int64 {
	return min(max(l.cleanedTo.Load(), l.start.Load()), l.next.Load())
}

// CleanStats computes the cleanable range under p.
func (l *Log) CleanStats(p CleanParams) CleanStats {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return CleanStats{}
	}
	return l.statsLocked(l.cleanableLocked(p), p)
}

// cleanableLocked returns the segments below the first uncleanable
// offset. Requires l.mu.
func (l *Log) cleanableLocked(p CleanParams) []*segment {
	lagCutoff := p.Now.Add(-p.MinCompactionLag).UnixMilli()
	for i, s := range l.segs {
		if s == l.active || s.next.Load() > p.MaxOffset {
			return l.segs[:i]
		}
		if ts, ok := s.largestTimestamp(); ok && p.MinCompactionLag > 0 && ts > lagCutoff {
			return l.segs[:i]
		}
	}
	return l.segs
}

// statsLocked measures segs, a prefix of the log. Requires l.mu.
func (l *Log) statsLocked(segs []*segment, p CleanParams) CleanStats {
	st := CleanStats{FirstDirty: l.CleanedTo(), End: l.start.Load()}
	if h := l.tombstoneHorizon.Load(); h != 0 && h <= p.Now.UnixMilli() {
		st.HorizonDue = len(segs) > 0
	}
	lagCutoff := p.Now.Add(-p.MaxCompactionLag).UnixMilli()
	for _, s := range segs {
		st.End = s.next.Load()
		if s.next.Load() <= st.FirstDirty {
			st.CleanBytes += s.size.Load()
			continue
		}
		if st.DirtyBytes == 0 && p.MaxCompactionLag > 0 {
			ts, ok := s.firstTimestamp()
			st.MaxLagDue = ok && ts >= 0 && ts < lagCutoff
		}
		st.DirtyBytes += s.size.Load()
	}
	return st
}

// firstTimestamp returns the max timestamp of the segment's first batch,
// which the time index always records.
func (s *segment) firstTimestamp() (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.timeIdx.len() == 0 {
		return 0, false
	}
	ts, _ := s.timeIdx.entry(0)
	return ts, true
}

// errCleanAborted: the log is closing, or a segment being cleaned was
// deleted or truncated meanwhile.
var errCleanAborted = errors.New("commitlog: cleaning aborted")

// Clean compacts the log once under p, whatever its dirty ratio (the
// caller decides when, with CleanStats). Appends and reads go on
// meanwhile: the active segment is never touched, the cleaner holds no
// append lock, and readers are kept out only while a group's segments are
// swapped in memory. Close aborts a cleaning in progress.
func (l *Log) Clean(p CleanParams) (CleanResult, error) {
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	if l.closing.Load() {
		return CleanResult{}, ErrClosed
	}
	if err := l.stickyErr(); err != nil {
		return CleanResult{}, err
	}
	segs, st := l.pinCleanable(p)
	defer unpin(segs)
	res := CleanResult{CleanStats: st}
	if st.DirtyBytes == 0 && !st.HorizonDue {
		return res, nil
	}
	l.logger.Info("commitlog: cleaning started", "dir", l.dir, "firstDirty", st.FirstDirty, "end", st.End,
		"cleanBytes", st.CleanBytes, "dirtyBytes", st.DirtyBytes)
	c := &cleaning{l: l, p: p, keys: newKeyMap(), nowMs: p.Now.UnixMilli(),
		horizon: p.Now.Add(p.DeleteRetention).UnixMilli(), aborted: map[int64][]AbortedEntry{}}
	if len(segs) > 0 {
		for _, e := range l.AbortedTxns(segs[0].base, st.End) {
			c.aborted[e.ProducerID] = append(c.aborted[e.ProducerID], e)
		}
	}
	n, end, err := c.buildKeyMap(segs, st.FirstDirty)
	if err != nil {
		return res, err
	}
	for _, g := range groupSegments(segs[:n], l.cfg.Load().SegmentBytes) {
		if err := c.cleanGroup(g, &res); err != nil {
			if errors.Is(err, errCleanAborted) {
				l.logger.Info("commitlog: cleaning aborted", "dir", l.dir, "segment", g[0].name)
			}
			return res, err
		}
	}
	if err := l.writeCleanerCheckpoint(max(end, st.FirstDirty)); err != nil {
		return res, err
	}
	l.tombstoneHorizon.Store(c.nextHorizon)
	l.logger.Info("commitlog: cleaned", "dir", l.dir, "cleanedTo", end, "groups", res.Groups,
		"segments", res.SegmentsBefore, "bytesBefore", res.BytesBefore, "bytesAfter", res.BytesAfter,
		"recordsDropped", res.RecordsDropped)
	return res, nil
}

// pinCleanable returns the cleanable segments, each with a reference the
// caller drops with unpin, so retention cannot close a file under the
// cleaner.
func (l *Log) pinCleanable(p CleanParams) ([]*segment, CleanStats) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, CleanStats{}
	}
	segs := append([]*segment(nil), l.cleanableLocked(p)...)
	for _, s := range segs {
		s.ref()
	}
	return segs, l.statsLocked(segs, p)
}

func unpin(segs []*segment) {
	for _, s := range segs {
		s.unref()
	}
}

// groupSegments splits segs into runs of consecutive segments whose total
// size stays within maxBytes (a bigger segment is a group alone) and whose
// offsets fit the indexes' 32-bit relative offsets (Kafka's
// groupSegmentsBySize).
func groupSegments(segs []*segment, maxBytes int64) [][]*segment {
	var groups [][]*segment
	for len(segs) > 0 {
		n, size := 1, segs[0].size.Load()
		for n < len(segs) {
			s := segs[n]
			if size+s.size.Load() > maxBytes || s.next.Load()-1-segs[0].base > maxRelOffset {
				break
			}
			size += s.size.Load()
			n++
		}
		groups = append(groups, segs[:n])
		segs = segs[n:]
	}
	return groups
}

// cleaning is the state of one Clean.
type cleaning struct {
	l       *Log
	p       CleanParams
	keys    *keyMap // key -> offset of its last record in the dirty range
	nowMs   int64
	horizon int64 // delete horizon stamped on tombstone batches this time
	// nextHorizon is the earliest delete horizon of the tombstones kept, 0
	// for none: when the next cleaning is due for them alone.
	nextHorizon int64
	window      []byte // read window, reused
	// aborted holds, by producer id, the aborted transactions with data
	// in the cleaned range.
	aborted map[int64][]AbortedEntry
}

// buildKeyMap maps every key of the dirty segments (those ending after
// firstDirty) to its last offset. It returns how many segments of segs
// the cleaning covers and the offset the checkpoint moves to.
func (c *cleaning) buildKeyMap(segs []*segment, firstDirty int64) (n int, end int64, err error) {
	maxKeys := c.p.MaxKeys
	if maxKeys <= 0 {
		maxKeys = defaultMaxKeys
	}
	for i, s := range segs {
		n, end = i+1, s.next.Load()
		if end <= firstDirty {
			continue
		}
		if err := c.eachBatch(s, c.mapBatch); err != nil {
			return 0, 0, err
		}
		if c.keys.len() >= maxKeys {
			break
		}
	}
	return n, end, nil
}

func (c *cleaning) mapBatch(b recordbatch.Batch) error {
	if c.ruleFor(b) != ruleFilter {
		return nil
	}
	return b.EachRecord(func(offset int64, key, _ []byte) bool {
		if key != nil {
			c.keys.put(key, offset)
		}
		return true
	})
}

// eachBatch calls fn with every batch of s, checked with recordbatch.Frame.
// The batch is valid until fn returns.
func (c *cleaning) eachBatch(s *segment, fn func(recordbatch.Batch) error) error {
	size := s.size.Load()
	w := walker{s: s, end: size, buf: c.window}
	defer func() { c.window = w.buf[:0] }()
	for pos := int64(0); pos < size; {
		if c.l.closing.Load() {
			return errCleanAborted
		}
		if size-pos < recordbatch.HeaderSize {
			return corruptAt(s, pos)
		}
		hb, err := w.bytes(pos, recordbatch.HeaderSize)
		if err != nil {
			return fmt.Errorf("commitlog: cleaning %s: %w", s.name, err)
		}
		n := recordbatch.Size(hb)
		if n < recordbatch.HeaderSize || n > size-pos {
			return corruptAt(s, pos)
		}
		raw, err := w.bytes(pos, n)
		if err != nil {
			return fmt.Errorf("commitlog: cleaning %s: %w", s.name, err)
		}
		b, err := recordbatch.Frame(raw)
		if err != nil {
			return fmt.Errorf("%w: %s at position %d: %w", ErrCorrupt, s.name, pos, err)
		}
		if err := fn(b); err != nil {
			return err
		}
		if err := c.throttle(int(n)); err != nil {
			return err
		}
		pos += n
	}
	return nil
}

func (c *cleaning) throttle(n int) error {
	if c.p.Throttle == nil {
		return nil
	}
	return c.p.Throttle(n)
}

// batchRule is how the cleaner treats a batch, decided from the batch's
// attributes and the aborted-transaction index:
//
//   - a control batch (attribute bit 5: a commit or abort marker) is kept
//     whole. (Kafka removes a marker like a tombstone once
//     delete.retention.ms has passed and no data of its transaction is
//     left; Sluice keeps them for now.)
//   - a transactional batch (bit 4) of an aborted transaction (its
//     producer id and offset inside an entry of the index) is discarded
//     whole, as Kafka does, and its keys are left out of the key map, so
//     an aborted write never displaces a committed value. The cleaner
//     works only below the last stable offset, where every transaction is
//     decided. With its data gone, the index entries of the cleaned
//     segments go with them.
//   - any other batch, transactional or not, has its records filtered by
//     key.
type batchRule int

const (
	ruleFilter batchRule = iota
	ruleKeep
	ruleDiscard
)

func (c *cleaning) ruleFor(b recordbatch.Batch) batchRule {
	switch {
	case b.IsControl():
		return ruleKeep
	case b.IsTransactional() && c.isAborted(b):
		return ruleDiscard
	}
	return ruleFilter
}

// isAborted reports whether b belongs to an aborted transaction.
func (c *cleaning) isAborted(b recordbatch.Batch) bool {
	for _, e := range c.aborted[b.ProducerID()] {
		if b.BaseOffset() >= e.FirstOffset && b.BaseOffset() <= e.LastOffset {
			return true
		}
	}
	return false
}

// keepRecord decides one record of a filtered batch: kept iff it has a key,
// no later record has the same key, and it is not a tombstone whose
// batch's delete horizon has passed (KIP-534). Kafka discards records
// without a key too; a compacted topic refuses them at produce.
func (c *cleaning) keepRecord(b recordbatch.Batch, offset int64, key, value []byte) bool {
	if key == nil {
		return false
	}
	if last, ok := c.keys.get(key); ok && offset < last {
		return false
	}
	if value == nil {
		if h, ok := b.DeleteHorizon(); ok && h <= c.nowMs {
			return false
		}
	}
	return true
}

// filterBatch appends to dst what b becomes: b itself, a rewritten batch,
// an empty header, or nothing. changed reports anything but b itself.
func (c *cleaning) filterBatch(dst []byte, b recordbatch.Batch) (out []byte, dropped int64, changed bool, err error) {
	switch c.ruleFor(b) {
	case ruleKeep:
		return append(dst, b...), 0, false, nil
	case ruleDiscard:
		if c.isLastOfProducer(b) {
			// Its sequence is what the producer's next batch follows.
			return b.AppendEmptyHeader(dst), int64(b.RecordCount()), true, nil
		}
		return dst, int64(b.RecordCount()), true, nil
	}
	keep := func(offset int64, key, value []byte) bool { return c.keepRecord(b, offset, key, value) }
	out, res, err := b.Retain(dst, keep, c.horizon)
	if err != nil {
		return dst, 0, false, fmt.Errorf("commitlog: cleaning batch at offset %d: %w", b.BaseOffset(), err)
	}
	dropped = int64(b.RecordCount() - res.Kept)
	if res.Tombstones {
		c.noteHorizon(b, res.Rewritten)
	}
	switch {
	case res.Rewritten:
		return out, dropped, true, nil
	case res.Kept > 0:
		return append(dst, b...), 0, false, nil
	case c.isLastOfProducer(b) && b.RecordCount() == 0:
		return append(dst, b...), 0, false, nil // an empty header kept by an earlier cleaning
	case c.isLastOfProducer(b):
		return b.AppendEmptyHeader(dst), dropped, true, nil
	}
	return dst, dropped, true, nil
}

func (c *cleaning) isLastOfProducer(b recordbatch.Batch) bool {
	return b.ProducerID() >= 0 && c.p.IsLastOfProducer != nil && c.p.IsLastOfProducer(b.ProducerID(), b.LastOffset())
}

// noteHorizon records the delete horizon of a kept tombstone batch: the
// one it had, or the one just stamped.
func (c *cleaning) noteHorizon(b recordbatch.Batch, rewritten bool) {
	h, ok := b.DeleteHorizon()
	if !ok && rewritten {
		h = c.horizon
	}
	if h != 0 && (c.nextHorizon == 0 || h < c.nextHorizon) {
		c.nextHorizon = h
	}
}
