package handler

import (
	"context"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/cluster"
	"sluice/internal/topics"
	"sluice/internal/vfs"
)

// twoNodes is a cluster of node 0 (this one) with listeners A and B and
// node 1 with A only, which leads every partition and coordinates every
// key.
type twoNodes struct{ cluster.Cluster }

var (
	node0 = cluster.Node{ID: 0, Host: "a0", Port: 1, Endpoints: []cluster.Endpoint{{Listener: "A", Host: "a0", Port: 1}, {Listener: "B", Host: "b0", Port: 2}}}
	node1 = cluster.Node{ID: 1, Host: "a1", Port: 1, Endpoints: []cluster.Endpoint{{Listener: "A", Host: "a1", Port: 1}}}
)

func (twoNodes) Self() cluster.Node    { return node0 }
func (twoNodes) Nodes() []cluster.Node { return []cluster.Node{node0, node1} }
func (twoNodes) ControllerID() int32   { return 0 }
func (twoNodes) Node(id int32) (cluster.Node, bool) {
	if id == 1 {
		return node1, true
	}
	return node0, id == 0
}
func (twoNodes) Partition(string, int32) (cluster.Placement, bool) {
	return cluster.Placement{Leader: 1, Replicas: []int32{1}, ISR: []int32{1}}, true
}
func (twoNodes) Coordinator(cluster.CoordinatorType, string) (cluster.Node, bool) { return node1, true }

// A client on a listener a broker lacks does not see that broker: it is
// left out of Metadata and DescribeCluster, the partitions it leads have
// no leader (LISTENER_NOT_FOUND from v6, LEADER_NOT_AVAILABLE before),
// and as a coordinator it is not available. On a listener both have,
// both are given with that listener's address.
func TestListenerTheBrokerLacks(t *testing.T) {
	tm, err := topics.Open(vfs.NewMem(), topics.Config{DataDir: "/data"})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if _, err := tm.Create(topics.CreateRequest{Name: "t", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	h := New(Env{Topics: tm, Cluster: twoNodes{}})
	on := func(listener string) context.Context {
		return WithClient(context.Background(), nil, "/h", h.NewSession(Listener{Name: listener}))
	}
	for _, tc := range []struct {
		listener string
		version  int16
		brokers  []string // host:port of each broker listed
		code     int16    // of partition t/0
		leader   int32
	}{
		{"A", 12, []string{"a0:1", "a1:1"}, 0, 1},
		{"B", 12, []string{"b0:2"}, kerr.ListenerNotFound.Code, -1},
		{"B", 5, []string{"b0:2"}, kerr.LeaderNotAvailable.Code, -1},
	} {
		req := kmsg.NewPtrMetadataRequest()
		req.Version = tc.version
		resp := h.Handle(on(tc.listener), req).Resp.(*kmsg.MetadataResponse)
		var got []string
		for _, b := range resp.Brokers {
			got = append(got, b.Host+":"+strconv.Itoa(int(b.Port)))
		}
		if len(got) != len(tc.brokers) || (len(got) > 0 && got[0] != tc.brokers[0]) || (len(got) > 1 && got[1] != tc.brokers[1]) {
			t.Errorf("%s v%d: brokers %v, want %v", tc.listener, tc.version, got, tc.brokers)
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			t.Fatalf("%s v%d: topics %+v", tc.listener, tc.version, resp.Topics)
		}
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != tc.code || p.Leader != tc.leader {
			t.Errorf("%s v%d: partition code %d leader %d, want %d %d", tc.listener, tc.version, p.ErrorCode, p.Leader, tc.code, tc.leader)
		}

		dc := kmsg.NewPtrDescribeClusterRequest()
		if n := len(h.Handle(on(tc.listener), dc).Resp.(*kmsg.DescribeClusterResponse).Brokers); n != len(tc.brokers) {
			t.Errorf("%s: DescribeCluster lists %d brokers, want %d", tc.listener, n, len(tc.brokers))
		}
	}
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.Version, fc.CoordinatorKeys = 4, []string{"g"}
	if c := h.Handle(on("A"), fc).Resp.(*kmsg.FindCoordinatorResponse).Coordinators[0]; c.ErrorCode != 0 || c.NodeID != 1 || c.Host != "a1" {
		t.Errorf("FindCoordinator on A: %+v", c)
	}
	if c := h.Handle(on("B"), fc).Resp.(*kmsg.FindCoordinatorResponse).Coordinators[0]; c.ErrorCode != kerr.CoordinatorNotAvailable.Code || c.NodeID != -1 {
		t.Errorf("FindCoordinator on B: %+v, want COORDINATOR_NOT_AVAILABLE", c)
	}
}

// A SASL listener on a handler without SASL settings lets nobody in: the
// session admits nothing but ApiVersions and SaslHandshake, and no
// mechanism is enabled.
func TestSASLListenerWithoutSettingsFailsClosed(t *testing.T) {
	h := New(Env{})
	s := h.NewSession(Listener{Name: "SASL_PLAINTEXT", SASL: true})
	if s.Principal() != "" {
		t.Fatalf("principal %q before authentication", s.Principal())
	}
	if err := s.Admit(3); err == nil {
		t.Fatal("Metadata admitted before authentication")
	}
	req := kmsg.NewPtrSASLHandshakeRequest()
	req.Version, req.Mechanism = 1, "PLAIN"
	ctx := WithClient(context.Background(), nil, "/h", s)
	if resp := h.Handle(ctx, req).Resp.(*kmsg.SASLHandshakeResponse); resp.ErrorCode != kerr.UnsupportedSaslMechanism.Code {
		t.Fatalf("handshake: code %d, want UNSUPPORTED_SASL_MECHANISM", resp.ErrorCode)
	}
}
