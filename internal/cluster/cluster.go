// Package cluster answers where things live: which node leads a
// partition and at which leader epoch, its replicas and in-sync replicas,
// which node coordinates a consumer group or a transactional id, and which
// nodes make up the cluster. The handlers ask it and never assume "this
// broker leads everything" on their own.
//
// On one node every answer is this broker (Local). With replication the
// answers become the metadata Raft keeps, and the leader epoch the
// partition's Raft term; the handlers stay as they are.
package cluster

// Node is a broker as clients reach it.
type Node struct {
	ID   int32
	Host string // advertised host
	Port int32  // advertised port
}

// NoLeader is the leader of a partition that has none (Kafka's -1).
const NoLeader int32 = -1

// Placement is where one partition lives.
type Placement struct {
	Leader      int32 // node id, NoLeader when none
	LeaderEpoch int32
	// Replicas and ISR are node ids. They may be shared between answers:
	// callers read them and never modify them.
	Replicas []int32
	ISR      []int32
}

// CoordinatorType is what FindCoordinator's key names.
type CoordinatorType int8

// Kafka's key types.
const (
	GroupCoordinator       CoordinatorType = 0
	TransactionCoordinator CoordinatorType = 1
)

// Cluster is the one source of placement the handlers use. Its methods are
// safe for concurrent use and cheap enough for the produce and fetch
// paths: they allocate nothing.
type Cluster interface {
	// Self is the broker answering the request.
	Self() Node
	// Nodes lists the cluster's brokers by id; callers do not modify it.
	Nodes() []Node
	// Node returns the broker with id.
	Node(id int32) (Node, bool)
	// ControllerID is the node clients send cluster-wide changes to.
	ControllerID() int32
	// Partition returns where a partition lives; false when the cluster
	// does not know it.
	Partition(topic string, index int32) (Placement, bool)
	// Coordinator returns the node that coordinates key: the leader of the
	// internal partition the key maps to.
	Coordinator(kind CoordinatorType, key string) (Node, bool)
}
