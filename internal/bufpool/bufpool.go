// Package bufpool keeps large byte buffers for reuse: the request frames
// of big produce requests and the buffers fetches read records into. A
// fresh buffer of a few MiB costs its zeroing, a page fault per page and
// garbage collection; at a few hundred MB/s that was a fifth of the
// broker's CPU. Buffers come in power-of-two classes from 64 KiB to
// 128 MiB; smaller and larger ones are left to the allocator.
package bufpool

import (
	"math/bits"
	"sync"
)

const (
	minShift = 16 // 64 KiB
	maxShift = 27 // 128 MiB
)

var classes [maxShift - minShift + 1]sync.Pool

// class returns the class index of a buffer of n bytes, rounding up.
func class(n int) (int, bool) {
	if n <= 0 || n > 1<<maxShift {
		return 0, false
	}
	shift := max(bits.Len(uint(n-1)), minShift)
	return shift - minShift, true
}

// Get returns a buffer of length n whose contents are undefined (not
// zeroed): the caller overwrites what it uses.
func Get(n int) []byte {
	c, ok := class(n)
	if !ok {
		return make([]byte, n)
	}
	if p, _ := classes[c].Get().(*[]byte); p != nil {
		return (*p)[:n]
	}
	return make([]byte, n, 1<<(c+minShift))
}

// Put returns b for reuse. Only buffers whose capacity is exactly a class
// size are kept. The caller must hold no other reference to b's array.
func Put(b []byte) {
	n := cap(b)
	c, ok := class(n)
	if !ok || n != 1<<(c+minShift) {
		return
	}
	b = b[:0]
	classes[c].Put(&b)
}
