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

// varint reads a zig-zag varint of at most 10 bytes.
func varint(b []byte) (int64, []byte, error) {
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, nil, ErrRecords
	}
	return v, b[n:], nil
}
