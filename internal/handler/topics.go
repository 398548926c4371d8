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
