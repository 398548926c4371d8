// Package recordbatch is a zero-copy view over Kafka record batch v2 bytes
// (magic 2, the only format Sluice accepts and stores).
//
// Layout of the 61-byte header, big-endian:
//
//	 0 baseOffset int64        | outside the CRC: the broker rewrites
//	 8 batchLength int32       | bytes after this field
//	12 partitionLeaderEpoch    | outside the CRC: the broker stamps it
//	16 magic int8
//	17 crc uint32              CRC-32C (Castagnoli) of bytes [21, end)
//	21 attributes int16        bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control
//	23 lastOffsetDelta int32
//	27 baseTimestamp int64
//	35 maxTimestamp int64
//	43 producerId int64
//	51 producerEpoch int16
//	53 baseSequence int32
//	57 recordCount int32
//	61 records...
package recordbatch

import (
	"encoding/binary"
	"hash/crc32"
)

// HeaderSize is the size of the fixed record batch v2 header.
const HeaderSize = 61

// LengthPrefix is the number of bytes before and including batchLength:
// a batch occupies LengthPrefix + batchLength bytes.
const LengthPrefix = 12

// Field offsets within the header.
const (
	offBaseOffset      = 0
	offBatchLength     = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offBaseTimestamp   = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordCount     = 57
)

// Attribute bits.
const (
	AttrCodecMask       = 0x07
	AttrLogAppendTime   = 0x08
	AttrTransactional   = 0x10
	AttrControl         = 0x20
	AttrDeleteHorizonMs = 0x40
)

// Codec is the compression codec in attributes bits 0-2.
type Codec int8

const (
	CodecNone   Codec = 0
	CodecGzip   Codec = 1
	CodecSnappy Codec = 2
	CodecLZ4    Codec = 3
	CodecZstd   Codec = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Batch is a view over the bytes of exactly one record batch. Its methods
// read the header in place; the bytes are never copied. A Batch is valid
// only while its backing bytes are.
type Batch []byte

// Accessors. Each requires len(b) >= HeaderSize, which Parse and Validate
// guarantee.

func (b Batch) BaseOffset() int64  { return int64(binary.BigEndian.Uint64(b[offBaseOffset:])) }
func (b Batch) BatchLength() int32 { return int32(binary.BigEndian.Uint32(b[offBatchLength:])) }
func (b Batch) LeaderEpoch() int32 { return int32(binary.BigEndian.Uint32(b[offLeaderEpoch:])) }
func (b Batch) Magic() int8        { return int8(b[offMagic]) }
func (b Batch) CRC() uint32        { return binary.BigEndian.Uint32(b[offCRC:]) }
func (b Batch) Attributes() int16  { return int16(binary.BigEndian.Uint16(b[offAttributes:])) }
func (b Batch) LastOffsetDelta() int32 {
	return int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:]))
}
func (b Batch) BaseTimestamp() int64 { return int64(binary.BigEndian.Uint64(b[offBaseTimestamp:])) }
func (b Batch) MaxTimestamp() int64  { return int64(binary.BigEndian.Uint64(b[offMaxTimestamp:])) }
func (b Batch) ProducerID() int64    { return int64(binary.BigEndian.Uint64(b[offProducerID:])) }
func (b Batch) ProducerEpoch() int16 { return int16(binary.BigEndian.Uint16(b[offProducerEpoch:])) }
func (b Batch) BaseSequence() int32  { return int32(binary.BigEndian.Uint32(b[offBaseSequence:])) }
func (b Batch) RecordCount() int32   { return int32(binary.BigEndian.Uint32(b[offRecordCount:])) }

// LastOffset is the offset of the last record in the batch.
func (b Batch) LastOffset() int64 { return b.BaseOffset() + int64(b.LastOffsetDelta()) }

// NextOffset is the offset just past the batch.
func (b Batch) NextOffset() int64 { return b.LastOffset() + 1 }

// Codec is the compression codec of the records section.
func (b Batch) Codec() Codec { return Codec(b.Attributes() & AttrCodecMask) }

// IsTransactional reports whether the batch belongs to a transaction.
func (b Batch) IsTransactional() bool { return b.Attributes()&AttrTransactional != 0 }

// IsControl reports whether the batch is a control batch (a transaction marker).
func (b Batch) IsControl() bool { return b.Attributes()&AttrControl != 0 }

// HasLogAppendTime reports whether the batch carries the broker's append time.
func (b Batch) HasLogAppendTime() bool { return b.Attributes()&AttrLogAppendTime != 0 }

// Records is the records section (compressed if Codec() != CodecNone).
func (b Batch) Records() []byte { return b[HeaderSize:] }

// ComputeCRC computes the CRC-32C the header should carry.
func (b Batch) ComputeCRC() uint32 { return crc32.Checksum(b[offAttributes:], castagnoli) }

// SetBaseOffset rewrites the base offset. The field is outside the CRC.
func (b Batch) SetBaseOffset(o int64) { binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(o)) }

// SetLeaderEpoch stamps the partition leader epoch. The field is outside the CRC.
func (b Batch) SetLeaderEpoch(e int32) { binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(e)) }

// SetLogAppendTime sets the timestamp type to LogAppendTime with the given
// time as max timestamp (as Kafka does, the base timestamp is left alone;
// readers take every record's timestamp from maxTimestamp), then recomputes
// the CRC, since both fields are covered by it.
func (b Batch) SetLogAppendTime(ms int64) {
	attrs := uint16(b.Attributes()) | AttrLogAppendTime
	binary.BigEndian.PutUint16(b[offAttributes:], attrs)
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(ms))
	binary.BigEndian.PutUint32(b[offCRC:], b.ComputeCRC())
}

// Size returns the size in bytes of the batch that starts at buf[0], read
// from its length field, or -1 if buf is too short to hold the length.
// It does not check that the whole batch is present.
func Size(buf []byte) int64 {
	if len(buf) < LengthPrefix {
		return -1
	}
	return LengthPrefix + int64(int32(binary.BigEndian.Uint32(buf[offBatchLength:])))
}
