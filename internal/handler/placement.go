package handler

import "sluice/internal/cluster"

// The placement questions of ElectLeaders and AlterPartitionReassignments,
// answered from cluster.Cluster: on one broker it holds the only replica
// of every partition and leads it; with replication the same questions
// get the answers Raft keeps, and these handlers need not change.

// replicasOf returns a live partition's replicas, the preferred leader
// first.
func (h *Handler) replicasOf(topic string, partition int32) []int32 {
	pl, _ := h.env.Cluster.Partition(topic, partition)
	return pl.Replicas
}

// leaderOf returns a live partition's leader, -1 for none.
func (h *Handler) leaderOf(topic string, partition int32) int32 {
	pl, ok := h.env.Cluster.Partition(topic, partition)
	if !ok {
		return cluster.NoLeader
	}
	return pl.Leader
}

// brokerRegistered reports whether id names a broker of the cluster.
func (h *Handler) brokerRegistered(id int32) bool {
	_, ok := h.env.Cluster.Node(id)
	return ok
}
