package recordbatch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kgo"
)

// build makes a batch of n records with values "v0".."v<n-1>", timestamps
// base+i, compressed with codec.
func build(t testing.TB, n int, codec kgo.CompressionCodec, base int64) []byte {
	var recs []byte
	for i := 0; i < n; i++ {
		body := []byte{0}
		body = kbin.AppendVarlong(body, int64(i))
		body = kbin.AppendVarint(body, int32(i))
		body = kbin.AppendVarint(body, -1)
		body = kbin.AppendVarintBytes(body, []byte("v"+string(rune('0'+i%10))))
		body = kbin.AppendVarint(body, 0)
		recs = kbin.AppendVarint(recs, int32(len(body)))
		recs = append(recs, body...)
	}
	attrs := int16(0)
	if c, err := kgo.DefaultCompressor(codec); err == nil && c != nil {
		var buf bytes.Buffer
		out, typ := c.Compress(&buf, recs)
		recs, attrs = append([]byte(nil), out...), int16(typ)
	}
	b := make([]byte, HeaderSize, HeaderSize+len(recs))
	b[offMagic] = 2
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(attrs))
	binary.BigEndian.PutUint32(b[offLastOffsetDelta:], uint32(n-1))
	binary.BigEndian.PutUint64(b[offBaseTimestamp:], uint64(base))
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(base+int64(n-1)))
	binary.BigEndian.PutUint64(b[offProducerID:], ^uint64(0))
	binary.BigEndian.PutUint16(b[offProducerEpoch:], 0xffff)
	binary.BigEndian.PutUint32(b[offBaseSequence:], 0xffffffff)
	binary.BigEndian.PutUint32(b[offRecordCount:], uint32(n))
	b = append(b, recs...)
	binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-LengthPrefix))
	binary.BigEndian.PutUint32(b[offCRC:], Batch(b).ComputeCRC())
	return b
}

var codecs = map[string]kgo.CompressionCodec{
	"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
	"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
}

func TestValidateEveryCodec(t *testing.T) {
	for name, c := range codecs {
		raw := build(t, 7, c, 1000)
		b, err := Validate(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b.RecordCount() != 7 || b.LastOffsetDelta() != 6 || len(b) != len(raw) {
			t.Fatalf("%s: header %d %d", name, b.RecordCount(), b.LastOffsetDelta())
		}
		var ts []int64
		if err := b.RecordTimestamps(func(o, t int64) bool { ts = append(ts, t); return true }); err != nil || len(ts) != 7 || ts[6] != 1006 {
			t.Fatalf("%s: timestamps %v %v", name, ts, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	good := build(t, 3, kgo.NoCompression(), 0)
	mutate := func(fn func([]byte)) []byte {
		b := append([]byte(nil), good...)
		fn(b)
		return b
	}
	recrc := func(b []byte) { binary.BigEndian.PutUint32(b[offCRC:], Batch(b).ComputeCRC()) }
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"short", good[:30], ErrShort},
		{"truncated", good[:len(good)-1], ErrTruncated},
		{"bad crc", mutate(func(b []byte) { b[len(b)-1] ^= 1 }), ErrCRC},
		{"magic", mutate(func(b []byte) { b[offMagic] = 1 }), ErrMagic},
		{"count", mutate(func(b []byte) { binary.BigEndian.PutUint32(b[offRecordCount:], 4); recrc(b) }), ErrRecordCount},
		{"last delta", mutate(func(b []byte) { binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 5); recrc(b) }), ErrRecordCount},
		{"length", mutate(func(b []byte) { binary.BigEndian.PutUint32(b[offBatchLength:], 10) }), ErrLength},
		{"codec", mutate(func(b []byte) { b[offAttributes+1] = 7; recrc(b) }), ErrRecords},
	} {
		if _, err := Validate(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestRewriteKeepsCRC(t *testing.T) {
	b := Batch(build(t, 2, kgo.NoCompression(), 5))
	b.SetBaseOffset(1234)
	b.SetLeaderEpoch(9)
	if _, err := Validate(b); err != nil || b.BaseOffset() != 1234 || b.NextOffset() != 1236 {
		t.Fatalf("after rewrite: %v", err)
	}
	b.SetLogAppendTime(99999)
	if _, err := Validate(b); err != nil || !b.HasLogAppendTime() || b.MaxTimestamp() != 99999 {
		t.Fatalf("after LogAppendTime: %v", err)
	}
}

// FuzzValidate: arbitrary bytes never panic the validator; what it accepts
// is whole (the view is exactly the batch's length) and stays valid.
func FuzzValidate(f *testing.F) {
	f.Add([]byte{})
	f.Add(binary.BigEndian.AppendUint32(make([]byte, 8), 0xFFFFFFFF))
	for _, c := range codecs {
		good := build(f, 3, c, 0)
		f.Add(good)
		f.Add(append(append([]byte(nil), good...), "garbage"...))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := Validate(in)
		if err != nil {
			return
		}
		if int64(len(b)) != Size(in) || len(b) > len(in) {
			t.Fatalf("accepted %d bytes of %d, length says %d", len(b), len(in), Size(in))
		}
		if _, err := Validate(b); err != nil {
			t.Fatalf("revalidating the accepted prefix: %v", err)
		}
		_ = b.RecordTimestamps(func(int64, int64) bool { return true })
	})
}

func TestBuildAndEachRecord(t *testing.T) {
	raw := Build(nil, []Record{{Key: []byte("k1"), Value: []byte("v1")}, {Key: []byte("k2")}}, 1234, 0)
	b, err := Validate(raw)
	if err != nil {
		t.Fatal(err)
	}
	b.SetBaseOffset(10)
	var got []string
	err = b.EachRecord(func(o int64, k, v []byte) bool {
		got = append(got, fmt.Sprintf("%d:%s=%s:%v", o, k, v, v == nil))
		return true
	})
	if err != nil || strings.Join(got, ",") != "10:k1=v1:false,11:k2=:true" {
		t.Fatalf("records %v %v", got, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A small zstd batch that claims 300 MiB of records is rejected as too
// large while streaming, not inflated into memory.
func TestDecompressionBombRejected(t *testing.T) {
	const valueLen = 300 << 20
	body := []byte{0}
	body = kbin.AppendVarlong(body, 0)
	body = kbin.AppendVarint(body, 0)
	body = kbin.AppendVarint(body, -1)
	body = kbin.AppendVarint(body, valueLen)
	var head []byte
	head = binary.AppendVarint(head, int64(len(body)+valueLen+1))
	head = append(head, body...)
	var comp bytes.Buffer
	w, _ := zstd.NewWriter(&comp, zstd.WithEncoderLevel(zstd.SpeedFastest))
	w.Write(head)
	io.Copy(w, io.LimitReader(zeros{}, valueLen))
	w.Write([]byte{0}) // no headers
	w.Close()

	b := make([]byte, HeaderSize, HeaderSize+comp.Len())
	b[offMagic] = 2
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(CodecZstd))
	binary.BigEndian.PutUint32(b[offRecordCount:], 1)
	binary.BigEndian.PutUint64(b[offProducerID:], ^uint64(0))
	b = append(b, comp.Bytes()...)
	binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-LengthPrefix))
	binary.BigEndian.PutUint32(b[offCRC:], Batch(b).ComputeCRC())
	if _, err := Validate(b); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%d-byte batch claiming %d bytes: %v, want ErrTooLarge", len(b), valueLen, err)
	}
}
