package nullbroker

import (
	"encoding/binary"
	"hash/crc32"
	"sync"
)

// batchHeaderSize is the fixed part of a record batch v2.
const batchHeaderSize = 61

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// bodies caches, per value size, the records of a batch of up to len(ends)
// records: record i has offset delta i and a zero value, so the first k
// records of the cached body are exactly the records of a k-record batch.
var bodies struct {
	mu sync.Mutex
	m  map[int]*body
}

type body struct {
	bytes []byte
	ends  []int // ends[i] is the end of record i in bytes
}

// recordsOf returns the records of an n-record batch of values of size v.
func recordsOf(v, n int) []byte {
	bodies.mu.Lock()
	defer bodies.mu.Unlock()
	if bodies.m == nil {
		bodies.m = map[int]*body{}
	}
	b := bodies.m[v]
	if b == nil || len(b.ends) < n {
		b = buildBody(v, max(n, 2*lenEnds(b), 1024))
		bodies.m[v] = b
	}
	return b.bytes[:b.ends[n-1]]
}

func lenEnds(b *body) int {
	if b == nil {
		return 0
	}
	return len(b.ends)
}

func buildBody(v, n int) *body {
	value := make([]byte, v)
	b := &body{ends: make([]int, n)}
	var rec []byte
	for i := range n {
		rec = rec[:0]
		rec = append(rec, 0)                     // attributes
		rec = binary.AppendVarint(rec, 0)        // timestamp delta
		rec = binary.AppendVarint(rec, int64(i)) // offset delta
		rec = binary.AppendVarint(rec, -1)       // null key
		rec = binary.AppendVarint(rec, int64(v))
		rec = append(rec, value...)
		rec = binary.AppendVarint(rec, 0) // no headers
		b.bytes = binary.AppendVarint(b.bytes, int64(len(rec)))
		b.bytes = append(b.bytes, rec...)
		b.ends[i] = len(b.bytes)
	}
	return b
}

// appendBatch appends a batch of n records of value size v at base
// offset base, timestamped ts (ms), to dst.
func appendBatch(dst []byte, base int64, n, v int, ts int64) []byte {
	recs := recordsOf(v, n)
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, uint64(base))
	dst = binary.BigEndian.AppendUint32(dst, uint32(batchHeaderSize-12+len(recs)))
	dst = binary.BigEndian.AppendUint32(dst, 0) // partition leader epoch
	dst = append(dst, 2)                        // magic
	dst = binary.BigEndian.AppendUint32(dst, 0) // crc, below
	dst = binary.BigEndian.AppendUint16(dst, 0) // attributes
	dst = binary.BigEndian.AppendUint32(dst, uint32(n-1))
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	dst = binary.BigEndian.AppendUint64(dst, ^uint64(0)) // producer id -1
	dst = binary.BigEndian.AppendUint16(dst, ^uint16(0)) // producer epoch -1
	dst = binary.BigEndian.AppendUint32(dst, ^uint32(0)) // base sequence -1
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, recs...)
	binary.BigEndian.PutUint32(dst[start+17:], crc32.Checksum(dst[start+21:], castagnoli))
	return dst
}

// recordSize is the bytes one record of value size v takes in a batch,
// for sizing a fetch (the largest offset delta's varint, which is close
// enough).
func recordSize(v int) int { return v + 12 }
