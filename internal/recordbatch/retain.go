package recordbatch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DeleteHorizon returns the delete horizon the log cleaner stamped into
// the batch (KIP-534): when attribute bit 6 is set, the base timestamp
// field holds the time after which the batch's tombstones may be removed,
// and record timestamp deltas are relative to it.
func (b Batch) DeleteHorizon() (int64, bool) {
	if b.Attributes()&AttrDeleteHorizonMs == 0 {
		return 0, false
	}
	return b.BaseTimestamp(), true
}

// RetainResult says what Retain did with a batch.
type RetainResult struct {
	Kept       int32 // records kept
	Rewritten  bool  // a new batch was appended to dst
	Tombstones bool  // a kept record is a tombstone
}

// Retain is the log cleaner's rewrite of one stored batch. It calls keep
// for every record in order and, when some record is dropped or a delete
// horizon must be stamped, appends to dst a new batch holding only the
// kept records; otherwise it leaves dst alone and the caller copies b as
// it is (Rewritten false). When no record is kept nothing is appended.
//
// The new batch keeps the base offset, the last offset delta, the
// producer fields, the max timestamp and every kept record's offset and
// timestamp, so offsets and producer sequences stay right and readers see
// a gap where records went; it is compressed again with b's codec and
// carries a new CRC. horizon >= 0 is stamped (see DeleteHorizon) when a
// kept record is a tombstone and b has no horizon yet.
func (b Batch) Retain(dst []byte, keep func(offset int64, key, value []byte) bool, horizon int64) ([]byte, RetainResult, error) {
	recs, err := b.decompressed()
	if err != nil {
		return dst, RetainResult{}, err
	}
	kept, tombstone, err := b.keptRecords(recs, keep)
	if err != nil {
		return dst, RetainResult{}, err
	}
	res := RetainResult{Kept: int32(len(kept)), Tombstones: tombstone}
	_, stamped := b.DeleteHorizon()
	stamp := horizon >= 0 && tombstone && !stamped
	if res.Kept == 0 || (res.Kept == b.RecordCount() && !stamp) {
		return dst, res, nil
	}
	if !stamp {
		horizon = -1
	}
	out, err := b.rebuild(dst, kept, horizon)
	res.Rewritten = err == nil
	return out, res, err
}

// keptRecords returns the encoded records (length prefix included) that
// keep accepts, and whether one of them is a tombstone.
func (b Batch) keptRecords(recs []byte, keep func(offset int64, key, value []byte) bool) (kept [][]byte, tombstone bool, err error) {
	for i := int32(0); i < b.RecordCount(); i++ {
		size, rest, err := varint(recs)
		if err != nil || size <= 0 || size > int64(len(rest)) {
			return nil, false, ErrRecords
		}
		whole := recs[:len(recs)-len(rest)+int(size)]
		key, value, delta, err := recordKeyValue(rest[:size])
		if err != nil {
			return nil, false, err
		}
		if keep(b.BaseOffset()+delta, key, value) {
			kept = append(kept, whole)
			tombstone = tombstone || value == nil
		}
		recs = rest[size:]
	}
	return kept, tombstone, nil
}

// rebuild appends a batch with b's header and the given records,
// restamping record timestamp deltas against horizon when horizon >= 0.
func (b Batch) rebuild(dst []byte, kept [][]byte, horizon int64) ([]byte, error) {
	var raw []byte
	for _, r := range kept {
		if horizon < 0 {
			raw = append(raw, r...)
			continue
		}
		var err error
		if raw, err = appendRebased(raw, r, b.BaseTimestamp(), horizon); err != nil {
			return dst, err
		}
	}
	codec := b.Codec()
	body, codec := compress(raw, codec)
	start := len(dst)
	dst = append(dst, b[:HeaderSize]...)
	dst = append(dst, body...)
	nb := Batch(dst[start:])
	attrs := uint16(b.Attributes())&^AttrCodecMask | uint16(codec)
	if horizon >= 0 {
		attrs |= AttrDeleteHorizonMs
		binary.BigEndian.PutUint64(nb[offBaseTimestamp:], uint64(horizon))
	}
	binary.BigEndian.PutUint16(nb[offAttributes:], attrs)
	binary.BigEndian.PutUint32(nb[offBatchLength:], uint32(len(nb)-LengthPrefix))
	binary.BigEndian.PutUint32(nb[offRecordCount:], uint32(len(kept)))
	binary.BigEndian.PutUint32(nb[offCRC:], nb.ComputeCRC())
	return dst, nil
}

// appendRebased re-encodes one record (length prefix included) with its
// timestamp delta taken from newBase instead of oldBase.
func appendRebased(dst, rec []byte, oldBase, newBase int64) ([]byte, error) {
	_, body, err := varint(rec)
	if err != nil || len(body) < 1 {
		return dst, ErrRecords
	}
	tsDelta, rest, err := varint(body[1:])
	if err != nil {
		return dst, ErrRecords
	}
	var head []byte
	head = append(head, body[0])
	head = kbin.AppendVarlong(head, oldBase+tsDelta-newBase)
	dst = kbin.AppendVarint(dst, int32(len(head)+len(rest)))
	dst = append(dst, head...)
	return append(dst, rest...), nil
}

// AppendEmptyHeader appends b's header with no records: record count 0,
// uncompressed, the offsets and producer fields unchanged. The cleaner
// keeps it for the last batch of an idempotent producer whose records
// all went, so that producer state rebuilt from the log still knows the
// producer's last sequence (Kafka does the same).
func (b Batch) AppendEmptyHeader(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, b[:HeaderSize]...)
	nb := Batch(dst[start:])
	attrs := uint16(b.Attributes()) &^ AttrCodecMask
	binary.BigEndian.PutUint16(nb[offAttributes:], attrs)
	binary.BigEndian.PutUint32(nb[offBatchLength:], uint32(HeaderSize-LengthPrefix))
	binary.BigEndian.PutUint32(nb[offRecordCount:], 0)
	binary.BigEndian.PutUint32(nb[offCRC:], nb.ComputeCRC())
	return dst
}

// compressors holds one kgo compressor per codec, made on first use.
var compressors sync.Map // Codec -> kgo.Compressor

// compress compresses raw with codec and returns the bytes and the codec
// actually used (none if the codec's compressor is unavailable).
func compress(raw []byte, codec Codec) ([]byte, Codec) {
	if codec == CodecNone {
		return raw, CodecNone
	}
	c, err := compressorFor(codec)
	if err != nil {
		return raw, CodecNone
	}
	var buf bytes.Buffer
	out, used := c.Compress(&buf, raw)
	if used == kgo.CodecNone || out == nil {
		return raw, CodecNone
	}
	return append([]byte(nil), out...), Codec(used)
}

func compressorFor(codec Codec) (kgo.Compressor, error) {
	if c, ok := compressors.Load(codec); ok {
		return c.(kgo.Compressor), nil
	}
	var cc kgo.CompressionCodec
	switch codec {
	case CodecGzip:
		cc = kgo.GzipCompression()
	case CodecSnappy:
		cc = kgo.SnappyCompression()
	case CodecLZ4:
		cc = kgo.Lz4Compression()
	case CodecZstd:
		cc = kgo.ZstdCompression()
	default:
		return nil, fmt.Errorf("%w: unknown codec %d", ErrRecords, codec)
	}
	c, err := kgo.DefaultCompressor(cc)
	if err != nil {
		return nil, err
	}
	compressors.Store(codec, c)
	return c, nil
}

// KeylessRecords returns the indexes in the batch of the records with a
// null key, which a compacted topic refuses (nil when there are none: no
// allocation then). It decompresses the batch if needed.
func (b Batch) KeylessRecords() ([]int32, error) {
	var keyless []int32
	i := int32(0)
	err := b.EachRecord(func(_ int64, key, _ []byte) bool {
		if key == nil {
			keyless = append(keyless, i)
		}
		i++
		return true
	})
	return keyless, err
}
