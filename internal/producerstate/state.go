package producerstate

import (
	"cmp"
	"slices"
)

// State is the idempotent-producer state of one partition. It is not safe for
// concurrent use: the partition serialises its appends anyway.
type State struct {
	cfg       Config
	producers map[int64]*entry
	// open maps the producers with an open transaction to its first
	// offset: the few entries the last stable offset depends on.
	open map[int64]int64
}

// New returns an empty state.
func New(cfg Config) *State {
	return &State{cfg: cfg, producers: make(map[int64]*entry), open: make(map[int64]int64)}
}

// FirstUnstableOffset is the first offset of the oldest open transaction;
// ok is false when none is open. The last stable offset is this, or the
// high watermark when lower or when no transaction is open.
func (s *State) FirstUnstableOffset() (offset int64, ok bool) {
	for _, first := range s.open {
		if !ok || first < offset {
			offset, ok = first, true
		}
	}
	return offset, ok
}

// Len is the number of producers with state.
func (s *State) Len() int { return len(s.producers) }

// sortedIDs lists the producer ids in ascending order, so that everything
// derived from the map (expiry results, descriptions, snapshots) is
// deterministic.
func (s *State) sortedIDs() []int64 {
	ids := make([]int64, 0, len(s.producers))
	for id := range s.producers {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, cmp.Compare[int64])
	return ids
}
