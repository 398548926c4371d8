package handler

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"sluice/internal/cluster"
	"sluice/internal/topics"
	"sluice/internal/vfs"
)

// elsewhere is a cluster in which node 1 leads every partition at epoch 5.
type elsewhere struct{ cluster.Cluster }

func (elsewhere) Self() cluster.Node { return cluster.Node{ID: 0} }
func (elsewhere) Partition(string, int32) (cluster.Placement, bool) {
	return cluster.Placement{Leader: 1, LeaderEpoch: 5, Replicas: []int32{1}, ISR: []int32{1}}, true
}

// The order of Kafka's checks: the client's epoch first (an older one is
// fenced, a newer one unknown), then leadership.
func TestLeaderCheckOrder(t *testing.T) {
	h := New(Env{Cluster: elsewhere{}})
	for current, want := range map[int32]int16{
		4: kerr.FencedLeaderEpoch.Code, 6: kerr.UnknownLeaderEpoch.Code,
		5: kerr.NotLeaderForPartition.Code, -1: kerr.NotLeaderForPartition.Code,
	} {
		if _, got := h.leaderCheck("t", 0, current); got != want {
			t.Errorf("current epoch %d: code %d, want %d", current, got, want)
		}
	}
}

// The check runs for every partition of every produce and fetch: it must
// not allocate.
func TestLeaderCheckAllocatesNothing(t *testing.T) {
	tm, err := topics.Open(vfs.NewMem(), topics.Config{DataDir: "/data"})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if _, err := tm.Create(topics.CreateRequest{Name: "t", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	h := New(Env{Topics: tm, Cluster: cluster.NewLocal(cluster.Node{ID: 3, Host: "h", Port: 1}, tm)})
	if pl, code := h.leaderCheck("t", 0, 0); code != 0 || pl.Leader != 3 || pl.LeaderEpoch != 0 {
		t.Fatalf("leaderCheck: %+v code %d", pl, code)
	}
	if n := testing.AllocsPerRun(100, func() { h.leaderCheck("t", 0, 0) }); n != 0 {
		t.Fatalf("leaderCheck allocates %v times per call", n)
	}
}
