package recordbatch

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// MaxDecompressedBytes bounds what one produced batch may decompress to.
// A few KiB of zstd can claim gigabytes; a batch past this bound is
// rejected (CORRUPT_MESSAGE) instead of being inflated into memory.
// Legitimate batches are far smaller: a producer's batch is bounded by
// max.message.bytes (1 MiB by default) before compression.
const MaxDecompressedBytes = 256 << 20

// ErrTooLarge is returned for a batch that decompresses past the bound.
var ErrTooLarge = errors.New("recordbatch: batch decompresses past the limit")

// checkCompressed validates the records of a compressed batch without
// holding them in memory: gzip, lz4 and zstd are decompressed as a stream
// and walked record by record; snappy, whose block format states its
// decoded size up front, is checked for size and then decoded whole.
func (b Batch) checkCompressed(n int32) error {
	src := b.Records()
	switch b.Codec() {
	case CodecSnappy:
		return checkSnappy(src, n)
	case CodecGzip, CodecLZ4, CodecZstd:
		return streamRecords(b.Codec(), src, n)
	}
	return fmt.Errorf("%w: unknown codec %d", ErrRecords, b.Codec())
}

var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// checkSnappy bounds the decoded size of a raw or xerial-framed snappy
// block before decoding it.
func checkSnappy(src []byte, n int32) error {
	size, err := snappySize(src)
	if err != nil {
		return fmt.Errorf("%w: snappy: %v", ErrRecords, err)
	}
	if size > MaxDecompressedBytes {
		return ErrTooLarge
	}
	recs, err := decompress(src, CodecSnappy)
	if err != nil {
		return err
	}
	return checkRecords(recs, n)
}

func snappySize(src []byte) (int64, error) {
	if !bytes.HasPrefix(src, xerialMagic) {
		n, err := s2.DecodedLen(src)
		return int64(n), err
	}
	if len(src) < 16 {
		return 0, errors.New("short xerial header")
	}
	var total int64
	for rem := src[16:]; len(rem) > 0; {
		if len(rem) < 4 {
			return 0, errors.New("short xerial chunk header")
		}
		size := int64(binary.BigEndian.Uint32(rem))
		rem = rem[4:]
		if size > int64(len(rem)) {
			return 0, errors.New("xerial chunk runs past the end")
		}
		n, err := s2.DecodedLen(rem[:size])
		if err != nil {
			return 0, err
		}
		total += int64(n)
		rem = rem[size:]
	}
	return total, nil
}

// Pools of stream decoders: creating a zstd decoder in particular is
// expensive, and validation runs for every compressed produced batch.
var (
	gzipPool = sync.Pool{New: func() any { return new(gzip.Reader) }}
	lz4Pool  = sync.Pool{New: func() any { return lz4.NewReader(nil) }}
	zstdPool = sync.Pool{New: func() any {
		d, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(MaxDecompressedBytes))
		return d
	}}
	bufPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}
)

// streamRecords decompresses src as a stream, bounded by
// MaxDecompressedBytes, and checks its n records as checkRecords does.
func streamRecords(codec Codec, src []byte, n int32) error {
	raw, release, err := openStream(codec, src)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRecords, err)
	}
	defer release()
	lim := &io.LimitedReader{R: raw, N: MaxDecompressedBytes + 1}
	br := bufPool.Get().(*bufio.Reader)
	br.Reset(lim)
	defer func() { br.Reset(nil); bufPool.Put(br) }()
	s := recordStream{r: br}
	for i := int32(0); i < n; i++ {
		if err := s.record(i); err != nil {
			if lim.N <= 0 {
				return ErrTooLarge
			}
			return err
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		if lim.N <= 0 {
			return ErrTooLarge
		}
		return fmt.Errorf("%w: bytes after the last record", ErrRecordCount)
	}
	return nil
}

// openStream returns a decompressing reader over src and a function that
// returns the decoder to its pool.
func openStream(codec Codec, src []byte) (io.Reader, func(), error) {
	in := bytes.NewReader(src)
	switch codec {
	case CodecGzip:
		z := gzipPool.Get().(*gzip.Reader)
		if err := z.Reset(in); err != nil {
			gzipPool.Put(z)
			return nil, nil, err
		}
		return z, func() { gzipPool.Put(z) }, nil
	case CodecLZ4:
		z := lz4Pool.Get().(*lz4.Reader)
		z.Reset(in)
		return z, func() { z.Reset(nil); lz4Pool.Put(z) }, nil
	default:
		z := zstdPool.Get().(*zstd.Decoder)
		if err := z.Reset(in); err != nil {
			zstdPool.Put(z)
			return nil, nil, err
		}
		return z, func() { _ = z.Reset(nil); zstdPool.Put(z) }, nil
	}
}

// recordStream walks records on a stream, consuming each exactly.
type recordStream struct {
	r   *bufio.Reader
	rem int64 // bytes left in the current record
}

func (s *recordStream) record(i int32) error {
	bad := func(what string) error { return fmt.Errorf("%w: record %d %s", ErrRecords, i, what) }
	size, err := binary.ReadVarint(s.r)
	if err != nil || size <= 0 {
		return bad("length")
	}
	s.rem = size
	if err := s.skip(1); err != nil {
		return bad("attributes")
	}
	if _, err := s.varint(); err != nil {
		return bad("timestamp delta")
	}
	if d, err := s.varint(); err != nil || d != int64(i) {
		return bad("offset delta")
	}
	for _, what := range []string{"key", "value"} {
		if err := s.skipBytes(true); err != nil {
			return bad(what)
		}
	}
	headers, err := s.varint()
	if err != nil || headers < 0 || headers > s.rem {
		return bad("header count")
	}
	for h := int64(0); h < headers; h++ {
		if s.skipBytes(false) != nil || s.skipBytes(true) != nil {
			return bad("header")
		}
	}
	if s.rem != 0 {
		return bad("trailing bytes")
	}
	return nil
}

// varint reads a zig-zag varint inside the current record, counting the
// bytes it takes (an over-long encoding counts in full).
func (s *recordStream) varint() (int64, error) {
	var ux uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if s.rem <= 0 {
			return 0, ErrRecords
		}
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, err
		}
		s.rem--
		ux |= uint64(c&0x7f) << shift
		if c < 0x80 {
			x := int64(ux >> 1)
			if ux&1 != 0 {
				x = ^x
			}
			return x, nil
		}
	}
	return 0, ErrRecords
}

func (s *recordStream) skip(n int64) error {
	if n > s.rem {
		return ErrRecords
	}
	if _, err := s.r.Discard(int(n)); err != nil {
		return err
	}
	s.rem -= n
	return nil
}

// skipBytes skips a varint-length-prefixed byte string; -1 is null.
func (s *recordStream) skipBytes(nullable bool) error {
	n, err := s.varint()
	if err != nil {
		return err
	}
	if n == -1 && nullable {
		return nil
	}
	if n < 0 {
		return ErrRecords
	}
	return s.skip(n)
}
