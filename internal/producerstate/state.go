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
}

// New returns an empty state.
func New(cfg Config) *State {
	return &State{cfg: cfg, producers: make(map[int64]*entry)}
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
