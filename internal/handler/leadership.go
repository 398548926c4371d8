package handler

import (
	"github.com/twmb/franz-go/pkg/kerr"

	"sluice/internal/cluster"
)

// leaderCheck is what Produce, Fetch, ListOffsets and OffsetForLeaderEpoch
// ask before touching a partition, in Kafka's order: the client's
// current_leader_epoch against the partition's (KIP-320; a negative one
// skips the check), FENCED_LEADER_EPOCH when the client's is older (it
// refreshes metadata), UNKNOWN_LEADER_EPOCH when newer (this broker has
// not caught up; the client retries); then NOT_LEADER_OR_FOLLOWER when
// another node leads. Produce sends no epoch and passes -1.
func (h *Handler) leaderCheck(topic string, index, currentEpoch int32) (cluster.Placement, int16) {
	pl, ok := h.env.Cluster.Partition(topic, index)
	switch {
	case !ok:
		return pl, kerr.UnknownTopicOrPartition.Code
	case currentEpoch >= 0 && currentEpoch < pl.LeaderEpoch:
		return pl, kerr.FencedLeaderEpoch.Code
	case currentEpoch > pl.LeaderEpoch:
		return pl, kerr.UnknownLeaderEpoch.Code
	case pl.Leader != h.env.Cluster.Self().ID:
		return pl, kerr.NotLeaderForPartition.Code
	}
	return pl, 0
}
