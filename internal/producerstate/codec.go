package producerstate

import (
	"encoding/binary"
	"errors"
)

// Big-endian fixed-width fields, as in Kafka's own formats; fixed widths keep
// the size of every record known up front, which lets the decoder bound
// allocations by the input length.

func putU8(b []byte, v uint8) []byte   { return append(b, v) }
func putI16(b []byte, v int16) []byte  { return binary.BigEndian.AppendUint16(b, uint16(v)) }
func putI32(b []byte, v int32) []byte  { return binary.BigEndian.AppendUint32(b, uint32(v)) }
func putU32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
func putI64(b []byte, v int64) []byte  { return binary.BigEndian.AppendUint64(b, uint64(v)) }

var errShort = errors.New("truncated")

// reader decodes fixed-width fields. The first short read sticks in err and
// every later read returns zero, so decoding code checks once per record
// instead of after every field, and can never index out of range.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || len(r.b) < n {
		r.err = errShort
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8 {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if v := r.take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if v := r.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (r *reader) i16() int16 { return int16(r.u16()) }
func (r *reader) i32() int32 { return int32(r.u32()) }
func (r *reader) i64() int64 { return int64(r.u64()) }
