package handler

import (
	"maps"
	"slices"

	"sluice/internal/topics"
)

// sortedTopics returns the topics ordered by name, so listings are stable.
func sortedTopics(all map[string]*topics.Topic) []*topics.Topic {
	out := make([]*topics.Topic, 0, len(all))
	for _, n := range slices.Sorted(maps.Keys(all)) {
		out = append(out, all[n])
	}
	return out
}

// assignable reports whether a manual replica list can be placed: every
// partition has one replica (replication factor 1 until replication
// exists), on a node of the cluster.
func (h *Handler) assignable(replicas []int32) bool {
	if len(replicas) != 1 {
		return false
	}
	_, ok := h.env.Cluster.Node(replicas[0])
	return ok
}
