package recordbatch

import (
	"encoding/binary"

	"github.com/twmb/franz-go/pkg/kbin"
)

// Record is one record for Build. A nil Value is a tombstone.
type Record struct {
	Key, Value []byte
}

// Build appends to dst an uncompressed batch of records, all with
// timestamp ms, no producer id, base offset 0 (the log assigns it), and a
// correct CRC. The broker uses it for the batches it writes itself: the
// records of its internal logs and, later, transaction markers.
func Build(dst []byte, records []Record, ms int64, attrs int16) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	for i, r := range records {
		dst = appendRecord(dst, int32(i), r)
	}
	b := Batch(dst[start:])
	b[offMagic] = 2
	binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-LengthPrefix))
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(attrs))
	binary.BigEndian.PutUint32(b[offLastOffsetDelta:], uint32(len(records)-1))
	binary.BigEndian.PutUint64(b[offBaseTimestamp:], uint64(ms))
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(ms))
	binary.BigEndian.PutUint64(b[offProducerID:], ^uint64(0))
	binary.BigEndian.PutUint16(b[offProducerEpoch:], 0xffff)
	binary.BigEndian.PutUint32(b[offBaseSequence:], 0xffffffff)
	binary.BigEndian.PutUint32(b[offRecordCount:], uint32(len(records)))
	binary.BigEndian.PutUint32(b[offCRC:], b.ComputeCRC())
	return dst
}

func appendRecord(dst []byte, delta int32, r Record) []byte {
	var body []byte
	body = append(body, 0)             // attributes
	body = kbin.AppendVarlong(body, 0) // timestamp delta
	body = kbin.AppendVarint(body, delta)
	body = appendVarBytes(body, r.Key)
	body = appendVarBytes(body, r.Value)
	body = kbin.AppendVarint(body, 0) // headers
	dst = kbin.AppendVarint(dst, int32(len(body)))
	return append(dst, body...)
}

func appendVarBytes(dst, b []byte) []byte {
	if b == nil {
		return kbin.AppendVarint(dst, -1)
	}
	return kbin.AppendVarintBytes(dst, b)
}

// EachRecord calls fn with the key and value of every record of the batch
// (decompressing if needed), in order, until fn returns false. Values of
// tombstones are nil. The slices alias the batch or its decompressed copy.
func (b Batch) EachRecord(fn func(offset int64, key, value []byte) bool) error {
	recs, err := b.decompressed()
	if err != nil {
		return err
	}
	for i := int32(0); i < b.RecordCount(); i++ {
		size, rest, err := varint(recs)
		if err != nil || size <= 0 || size > int64(len(rest)) {
			return ErrRecords
		}
		key, value, delta, err := recordKeyValue(rest[:size])
		if err != nil {
			return err
		}
		if !fn(b.BaseOffset()+delta, key, value) {
			return nil
		}
		recs = rest[size:]
	}
	return nil
}

func recordKeyValue(rec []byte) (key, value []byte, delta int64, err error) {
	rec = rec[1:] // attributes
	if _, rec, err = varint(rec); err != nil {
		return
	}
	if delta, rec, err = varint(rec); err != nil {
		return
	}
	if key, rec, err = readVarBytes(rec); err != nil {
		return
	}
	value, _, err = readVarBytes(rec)
	return
}

func readVarBytes(b []byte) ([]byte, []byte, error) {
	n, rest, err := varint(b)
	if err != nil {
		return nil, nil, err
	}
	if n == -1 {
		return nil, rest, nil
	}
	if n < 0 || n > int64(len(rest)) {
		return nil, nil, ErrRecords
	}
	return rest[:n], rest[n:], nil
}
