package cluster

// LeaderEpochs gives the leader epoch of a partition this broker holds
// (the live topics, which keep each partition's epoch with its log).
type LeaderEpochs interface {
	LeaderEpoch(topic string, index int32) (int32, bool)
}

// Local is the cluster of one broker: it is the only node and the
// controller, leads every partition it holds, is each partition's one
// replica and in-sync replica, and coordinates every group and
// transactional id (it holds every partition of the internal topics).
type Local struct {
	self   Node
	nodes  []Node
	only   []int32 // {self.ID}: every partition's replicas and ISR
	epochs LeaderEpochs
}

// NewLocal returns the cluster of self alone.
func NewLocal(self Node, epochs LeaderEpochs) *Local {
	return &Local{
		self: self, epochs: epochs,
		// Full slice expressions: an append by a careless caller copies
		// instead of writing into the shared array.
		nodes: []Node{self}[:1:1],
		only:  []int32{self.ID}[:1:1],
	}
}

func (l *Local) Self() Node          { return l.self }
func (l *Local) Nodes() []Node       { return l.nodes }
func (l *Local) ControllerID() int32 { return l.self.ID }

func (l *Local) Node(id int32) (Node, bool) {
	if id != l.self.ID {
		return Node{}, false
	}
	return l.self, true
}

func (l *Local) Partition(topic string, index int32) (Placement, bool) {
	epoch, ok := l.epochs.LeaderEpoch(topic, index)
	if !ok {
		return Placement{Leader: NoLeader}, false
	}
	return Placement{Leader: l.self.ID, LeaderEpoch: epoch, Replicas: l.only, ISR: l.only}, true
}

func (l *Local) Coordinator(CoordinatorType, string) (Node, bool) { return l.self, true }
