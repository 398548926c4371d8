// Package producerid hands out producer ids for InitProducerId. Ids come
// from durable blocks reserved in the catalog, so an id is never given to
// two producers, also across restarts: a restart skips the rest of the
// block it was using.
package producerid

import "sync"

// BlockSize is how many ids one catalog record reserves.
const BlockSize = 1000

// Source reserves blocks durably; the catalog implements it.
type Source interface {
	AllocateProducerIDs(n int64) (first int64, err error)
}

// Allocator hands out ids from reserved blocks.
type Allocator struct {
	src Source

	mu        sync.Mutex
	next, end int64 // [next, end) is what is left of the current block
}

// New returns an allocator that reserves its first block on first use.
func New(src Source) *Allocator { return &Allocator{src: src} }

// Next returns a fresh producer id.
func (a *Allocator) Next() (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next == a.end {
		first, err := a.src.AllocateProducerIDs(BlockSize)
		if err != nil {
			return -1, err
		}
		a.next, a.end = first, first+BlockSize
	}
	id := a.next
	a.next++
	return id, nil
}

// NextProducerID is Next, as the transaction coordinator asks for ids.
func (a *Allocator) NextProducerID() (int64, error) { return a.Next() }
