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
	Host string // advertised host of the node's first listener
	Port int32  // advertised port of the node's first listener
	// Endpoints are the advertised addresses of each of the node's
	// listeners, by listener name; empty: Host and Port serve every
	// listener (a node of one listener).
	Endpoints []Endpoint
}

// Endpoint is one listener's advertised address.
type Endpoint struct {
	Listener string
	Host     string
	Port     int32
}

// On returns the node as a client that came in on the named listener
// must reach it: with that listener's advertised address. A client must
// stay on the listener it chose (its security protocol, its network), so
// a node without a listener of that name is not reachable for it: false.
// An empty name (a request from outside a connection) takes the node as
// it is.
func (n Node) On(listener string) (Node, bool) {
	if listener == "" || len(n.Endpoints) == 0 {
		return n, true
	}
	for _, e := range n.Endpoints {
		if e.Listener == listener {
			n.Host, n.Port = e.Host, e.Port
			return n, true
		}
	}
	return Node{ID: n.ID}, false
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
