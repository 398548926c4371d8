package handler

// Where partitions live, asked in one place. Sluice is one broker: it holds
// the only replica of every partition and leads it. The replication plan's
// Cluster interface (leader, replicas, brokers) will answer here instead,
// and the handlers that ask (ElectLeaders, AlterPartitionReassignments)
// need not change.

// replicasOf returns a live partition's replicas, the preferred leader
// first.
func (h *Handler) replicasOf(topic string, partition int32) []int32 {
	return []int32{h.env.NodeID}
}

// leaderOf returns a live partition's leader, -1 for none.
func (h *Handler) leaderOf(topic string, partition int32) int32 {
	return h.env.NodeID
}

// brokerRegistered reports whether id names a broker of the cluster.
func (h *Handler) brokerRegistered(id int32) bool {
	return id == h.env.NodeID
}
