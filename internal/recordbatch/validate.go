package recordbatch

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// decompressor handles gzip, snappy (raw and xerial framing), lz4 frames and
// zstd. It pools its readers, so sharing one is cheaper than one per call.
var decompressor = kgo.DefaultDecompressor()

// Validate checks a produced batch completely before the broker stores it:
// framing and CRC (Frame), then that the records section decodes into
// exactly RecordCount() records whose offset deltas run 0, 1, 2, ... and
// end at LastOffsetDelta(). Compressed batches are decompressed as a
// stream, bounded by MaxDecompressedBytes, to check this; the stored bytes
// stay compressed as the producer sent them.
//
// Validate never panics and never retains buf.
func Validate(buf []byte) (Batch, error) {
	b, err := Frame(buf)
	if err != nil {
		return nil, err
	}
	n := b.RecordCount()
	if n <= 0 || b.LastOffsetDelta() != n-1 {
		return nil, fmt.Errorf("%w: count %d, last offset delta %d", ErrRecordCount, n, b.LastOffsetDelta())
	}
	if b.Codec() == CodecNone {
		err = checkRecords(b.Records(), n)
	} else {
		err = b.checkCompressed(n)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// decompressed returns the records section uncompressed. It holds the
// whole result in memory, so it is for stored batches, which Validate has
// bounded, not for bytes straight off the socket.
func (b Batch) decompressed() ([]byte, error) {
	if b.Codec() == CodecNone {
		return b.Records(), nil
	}
	return decompress(b.Records(), b.Codec())
}

func decompress(src []byte, c Codec) ([]byte, error) {
	if c > CodecZstd {
		return nil, fmt.Errorf("%w: unknown codec %d", ErrRecords, c)
	}
	out, err := decompressor.Decompress(src, kgo.CompressionCodecType(c))
	if err != nil {
		return nil, fmt.Errorf("%w: decompress: %v", ErrRecords, err)
	}
	return out, nil
}

// checkRecords walks n records and requires them to fill recs exactly.
func checkRecords(recs []byte, n int32) error {
	for i := int32(0); i < n; i++ {
		size, rest, err := varint(recs)
		if err != nil || size <= 0 || size > int64(len(rest)) {
			return fmt.Errorf("%w: record %d length", ErrRecords, i)
		}
		if err := checkRecord(rest[:size], i); err != nil {
			return err
		}
		recs = rest[size:]
	}
	if len(recs) != 0 {
		return fmt.Errorf("%w: %d bytes after the last record", ErrRecordCount, len(recs))
	}
	return nil
}

// checkRecord checks one record body: attributes, timestamp delta, offset
// delta (must equal i), key, value and headers, consuming rec exactly.
func checkRecord(rec []byte, i int32) error {
	bad := func(what string) error { return fmt.Errorf("%w: record %d %s", ErrRecords, i, what) }
	if len(rec) < 1 {
		return bad("attributes")
	}
	rec = rec[1:]
	var err error
	if _, rec, err = varint(rec); err != nil {
		return bad("timestamp delta")
	}
	var delta int64
	if delta, rec, err = varint(rec); err != nil || delta != int64(i) {
		return bad("offset delta")
	}
	if rec, err = skipBytes(rec, true); err != nil {
		return bad("key")
	}
	if rec, err = skipBytes(rec, true); err != nil {
		return bad("value")
	}
	var headers int64
	if headers, rec, err = varint(rec); err != nil || headers < 0 || headers > int64(len(rec)) {
		return bad("header count")
	}
	for h := int64(0); h < headers; h++ {
		if rec, err = skipBytes(rec, false); err != nil {
			return bad("header key")
		}
		if rec, err = skipBytes(rec, true); err != nil {
			return bad("header value")
		}
	}
	if len(rec) != 0 {
		return bad("trailing bytes")
	}
	return nil
}

// skipBytes skips a varint-length-prefixed byte string; -1 is null.
func skipBytes(b []byte, nullable bool) ([]byte, error) {
	n, rest, err := varint(b)
	if err != nil {
		return nil, err
	}
	if n == -1 && nullable {
		return rest, nil
	}
	if n < 0 || n > int64(len(rest)) {
		return nil, ErrRecords
	}
	return rest[n:], nil
}

// varint reads a zig-zag varint of at most 10 bytes.
func varint(b []byte) (int64, []byte, error) {
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, nil, ErrRecords
	}
	return v, b[n:], nil
}
