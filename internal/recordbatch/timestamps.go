package recordbatch

// RecordTimestamps calls fn with the offset and timestamp of every record of
// a stored batch, in order, until fn returns false. For a LogAppendTime batch
// every record carries the batch's max timestamp. It decompresses the
// records when needed; it is used by ListOffsets, not on the fetch path.
func (b Batch) RecordTimestamps(fn func(offset, timestamp int64) bool) error {
	recs, err := b.decompressed()
	if err != nil {
		return err
	}
	base, baseTS := b.BaseOffset(), b.BaseTimestamp()
	appendTime := b.HasLogAppendTime()
	for i := int32(0); i < b.RecordCount(); i++ {
		size, rest, err := varint(recs)
		if err != nil || size <= 1 || size > int64(len(rest)) {
			return ErrRecords
		}
		tsDelta, more, err := varint(rest[1:size])
		if err != nil {
			return ErrRecords
		}
		// The offset delta, not i: a cleaned batch has gaps.
		offDelta, _, err := varint(more)
		if err != nil {
			return ErrRecords
		}
		ts := baseTS + tsDelta
		if appendTime {
			ts = b.MaxTimestamp()
		}
		if !fn(base+offDelta, ts) {
			return nil
		}
		recs = rest[size:]
	}
	return nil
}
