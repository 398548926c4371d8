package cluster

import (
	"reflect"
	"slices"
	"testing"
)

// epochsOf is a fixed set of partitions and their leader epochs.
type epochsOf map[string][]int32

func (e epochsOf) LeaderEpoch(topic string, index int32) (int32, bool) {
	parts := e[topic]
	if index < 0 || int(index) >= len(parts) {
		return 0, false
	}
	return parts[index], true
}

// One broker is the only node, the controller, every partition's leader,
// replica and in-sync replica at the partition's own epoch, and every
// key's coordinator.
func TestLocal(t *testing.T) {
	self := Node{ID: 7, Host: "h", Port: 9}
	c := NewLocal(self, epochsOf{"t": {0, 3}})
	if !reflect.DeepEqual(c.Self(), self) || c.ControllerID() != 7 || !reflect.DeepEqual(c.Nodes(), []Node{self}) {
		t.Fatalf("self %v controller %d nodes %v", c.Self(), c.ControllerID(), c.Nodes())
	}
	if n, ok := c.Node(7); !ok || !reflect.DeepEqual(n, self) {
		t.Fatalf("Node(7) = %v %v", n, ok)
	}
	if _, ok := c.Node(0); ok {
		t.Fatal("Node(0) found on a cluster of node 7")
	}
	pl, ok := c.Partition("t", 1)
	if !ok || pl.Leader != 7 || pl.LeaderEpoch != 3 || !slices.Equal(pl.Replicas, []int32{7}) || !slices.Equal(pl.ISR, []int32{7}) {
		t.Fatalf("Partition(t, 1) = %+v %v", pl, ok)
	}
	for _, tp := range []struct {
		topic string
		index int32
	}{{"t", 2}, {"t", -1}, {"u", 0}} {
		if pl, ok := c.Partition(tp.topic, tp.index); ok || pl.Leader != NoLeader {
			t.Fatalf("Partition(%s, %d) = %+v %v, want none", tp.topic, tp.index, pl, ok)
		}
	}
	for _, kind := range []CoordinatorType{GroupCoordinator, TransactionCoordinator} {
		if n, ok := c.Coordinator(kind, "k"); !ok || !reflect.DeepEqual(n, self) {
			t.Fatalf("Coordinator(%d) = %v %v", kind, n, ok)
		}
	}
	// The shared replica list cannot be grown into by a caller.
	grown := append(pl.Replicas, 8)
	if again, _ := c.Partition("t", 0); !slices.Equal(again.Replicas, []int32{7}) || &grown[0] == &again.Replicas[0] {
		t.Fatalf("appending to an answer changed the next one: %v", again.Replicas)
	}
}

// A node answers on a listener with that listener's address, not at all
// on one it lacks, and as it is for a request outside a connection.
func TestNodeOn(t *testing.T) {
	n := Node{ID: 2, Host: "a", Port: 1, Endpoints: []Endpoint{{"A", "a", 1}, {"B", "b", 2}}}
	if got, ok := n.On("B"); !ok || got.Host != "b" || got.Port != 2 || got.ID != 2 {
		t.Fatalf("On(B) = %+v %v", got, ok)
	}
	if got, ok := n.On("C"); ok || got.ID != 2 {
		t.Fatalf("On(C) = %+v %v", got, ok)
	}
	if got, ok := n.On(""); !ok || got.Host != "a" {
		t.Fatalf("On(\"\") = %+v %v", got, ok)
	}
	if got, ok := (Node{ID: 1, Host: "h", Port: 9}).On("X"); !ok || got.Host != "h" {
		t.Fatalf("a node without endpoints: %+v %v", got, ok)
	}
}
