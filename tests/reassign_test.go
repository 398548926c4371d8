package tests

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
)

// A broker whose node id is not 0, so that answers that name it cannot
// pass by accident.
const placementNode = 3

func startPlacementBroker(t *testing.T) (*brokertest.Broker, string) {
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) { c.NodeID = placementNode }))
	topic := topicName(t, "place")
	createTopic(t, newAdmin(t, b.Addr()), topic, 2, nil)
	return b, topic
}

type partitionCode struct {
	topic     string
	partition int32
	code      int16
}

// ElectLeaders (KIP-460) on one broker: every partition already has its
// preferred leader, so a preferred or an unclean election is
// ELECTION_NOT_NEEDED; unknown topics and partitions are
// UNKNOWN_TOPIC_OR_PARTITION; a null topic list answers every topic with
// no partition; an unknown election type is INVALID_REQUEST.
func TestElectLeaders(t *testing.T) {
	b, topic := startPlacementBroker(t)
	adm := newAdmin(t, b.Addr())
	ctx := testCtx(t, 30*time.Second)
	for _, how := range []kadm.ElectLeadersHow{kadm.ElectPreferredReplica, kadm.ElectLiveReplica} {
		var s kadm.TopicsSet
		s.Add(topic, 0, 1)
		rs, err := adm.ElectLeaders(ctx, how, s)
		if err != nil || len(rs) != 1 || len(rs[topic]) != 2 {
			t.Fatalf("election %d: %v %+v", how, err, rs)
		}
		for p, r := range rs[topic] {
			if !errors.Is(r.Err, kerr.ElectionNotNeeded) || r.How != how {
				t.Errorf("election %d of partition %d: %v (how %d), want ELECTION_NOT_NEEDED", how, p, r.Err, r.How)
			}
		}
	}

	asked := []partitionCode{
		{topic, 0, kerr.ElectionNotNeeded.Code},
		{topic, 2, kerr.UnknownTopicOrPartition.Code},
		{"no-such-topic", 0, kerr.UnknownTopicOrPartition.Code},
	}
	for _, v := range []int16{0, 1, 2} {
		resp := electRaw(t, b.Addr(), v, 1, asked)
		checkElection(t, v, resp, 0, asked)
	}
	// An unknown election type, at the top and for every partition asked.
	resp := electRaw(t, b.Addr(), 2, 7, asked)
	checkElection(t, 2, resp, kerr.InvalidRequest.Code, []partitionCode{
		{topic, 0, kerr.InvalidRequest.Code}, {topic, 2, kerr.InvalidRequest.Code}, {"no-such-topic", 0, kerr.InvalidRequest.Code},
	})
	// No topics at all: nothing asked, nothing answered.
	if resp := electRaw(t, b.Addr(), 2, 0, []partitionCode{}); len(resp.Topics) != 0 || resp.ErrorCode != 0 {
		t.Fatalf("empty topic list: %+v", resp)
	}

	// Every partition (null topics): each topic listed, no partition in
	// any, since none needed an election.
	all, err := adm.ListTopicsWithInternal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp = electRaw(t, b.Addr(), 2, 0, nil)
	var names []string
	for _, rt := range resp.Topics {
		names = append(names, rt.Topic)
		if len(rt.Partitions) != 0 {
			t.Errorf("every partition: topic %s answered %d partitions, want none", rt.Topic, len(rt.Partitions))
		}
	}
	if resp.ErrorCode != 0 || !slices.Equal(names, all.Names()) {
		t.Fatalf("every partition: code %d, topics %v, want %v", resp.ErrorCode, names, all.Names())
	}
}

// electRaw sends ElectLeaders at version v with one topic entry per asked
// partition (nil asked: a null topic list, every partition).
func electRaw(t *testing.T, addr string, v int16, how int8, asked []partitionCode) *kmsg.ElectLeadersResponse {
	t.Helper()
	req := kmsg.NewPtrElectLeadersRequest()
	req.ElectionType, req.TimeoutMillis = how, 5000
	if asked != nil {
		req.Topics = []kmsg.ElectLeadersRequestTopic{}
	}
	for _, a := range asked {
		rt := kmsg.NewElectLeadersRequestTopic()
		rt.Topic, rt.Partitions = a.topic, []int32{a.partition}
		req.Topics = append(req.Topics, rt)
	}
	resp := requestBroker(t, clientAt(t, addr, req.Key(), v), req).(*kmsg.ElectLeadersResponse)
	if resp.Version != v {
		t.Fatalf("asked at v%d, answered at v%d", v, resp.Version)
	}
	return resp
}

func checkElection(t *testing.T, v int16, resp *kmsg.ElectLeadersResponse, code int16, want []partitionCode) {
	t.Helper()
	if resp.ErrorCode != code || len(resp.Topics) != len(want) {
		t.Fatalf("v%d: top-level code %d, %d topics; want %d and %d", v, resp.ErrorCode, len(resp.Topics), code, len(want))
	}
	for i, w := range want {
		rt := resp.Topics[i]
		if rt.Topic != w.topic || len(rt.Partitions) != 1 {
			t.Fatalf("v%d: topic %d is %s with %d partitions, want %s with 1", v, i, rt.Topic, len(rt.Partitions), w.topic)
		}
		p := rt.Partitions[0]
		if p.Partition != w.partition || p.ErrorCode != w.code || p.ErrorMessage == nil {
			t.Errorf("v%d %s/%d: partition %d code %d message %v; want code %d and a message", v, w.topic, w.partition, p.Partition, p.ErrorCode, p.ErrorMessage, w.code)
		}
	}
}

// AlterPartitionReassignments (KIP-455) on one broker: moving a partition
// to that broker alone is where it already is, and succeeds; a cancel
// finds nothing in progress; a list that is empty, names a broker that
// does not exist or names one twice is INVALID_REPLICA_ASSIGNMENT.
// ListPartitionReassignments then lists nothing, whatever is asked.
func TestPartitionReassignments(t *testing.T) {
	b, topic := startPlacementBroker(t)
	adm := newAdmin(t, b.Addr())
	ctx := testCtx(t, 30*time.Second)
	var req kadm.AlterPartitionAssignmentsReq
	req.Assign(topic, 0, []int32{placementNode})
	req.Assign(topic, 1, []int32{placementNode})
	rs, err := adm.AlterPartitionAssignments(ctx, req)
	if err != nil || len(rs[topic]) != 2 || rs[topic][0].Err != nil || rs[topic][1].Err != nil {
		t.Fatalf("reassign to the only broker: %v %+v", err, rs)
	}

	cases := []struct {
		partition int32
		replicas  []int32
		code      int16
		says      string // in the message
	}{
		{0, []int32{placementNode}, 0, ""},
		{1, nil, kerr.NoReassignmentInProgress.Code, "No partition reassignment"},
		{0, []int32{}, kerr.InvalidReplicaAssignment.Code, "empty"},
		{0, []int32{placementNode + 1}, kerr.InvalidReplicaAssignment.Code, "broker 4 is not registered"},
		{0, []int32{placementNode + 2, placementNode + 1}, kerr.InvalidReplicaAssignment.Code, "broker 4 is not registered"},
		{0, []int32{placementNode, placementNode}, kerr.InvalidReplicaAssignment.Code, "broker 3 is named more than once"},
		{2, []int32{placementNode}, kerr.UnknownTopicOrPartition.Code, "no partition 2"},
	}
	for _, v := range []int16{0, 1} {
		raw := kmsg.NewPtrAlterPartitionAssignmentsRequest()
		raw.TimeoutMillis, raw.AllowReplicationFactorChange = 5000, false
		rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
		rt.Topic = topic
		for _, c := range cases {
			rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
			rp.Partition, rp.Replicas = c.partition, c.replicas
			rt.Partitions = append(rt.Partitions, rp)
		}
		missing := kmsg.NewAlterPartitionAssignmentsRequestTopic()
		missing.Topic = "no-such-topic"
		missing.Partitions = []kmsg.AlterPartitionAssignmentsRequestTopicPartition{{Partition: 0, Replicas: []int32{placementNode}}}
		raw.Topics = append(raw.Topics, rt, missing)
		resp := requestBroker(t, clientAt(t, b.Addr(), raw.Key(), v), raw).(*kmsg.AlterPartitionAssignmentsResponse)
		if resp.Version != v || resp.ErrorCode != 0 || resp.ErrorMessage != nil || len(resp.Topics) != 2 || len(resp.Topics[0].Partitions) != len(cases) {
			t.Fatalf("v%d: %+v", v, resp)
		}
		for i, c := range cases {
			p := resp.Topics[0].Partitions[i]
			if p.Partition != c.partition || p.ErrorCode != c.code || (p.ErrorMessage == nil) != (c.code == 0) ||
				(p.ErrorMessage != nil && !strings.Contains(*p.ErrorMessage, c.says)) {
				t.Errorf("v%d partition %d to %v: code %d message %q, want code %d saying %q", v, c.partition, c.replicas, p.ErrorCode, derefString(p.ErrorMessage), c.code, c.says)
			}
		}
		if p := resp.Topics[1].Partitions; resp.Topics[1].Topic != "no-such-topic" || len(p) != 1 || p[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Errorf("v%d unknown topic: %+v", v, resp.Topics[1])
		}
	}

	// Nothing is in progress, nor did anything move.
	var s kadm.TopicsSet
	s.Add(topic, 0, 1)
	s.Add("no-such-topic", 0)
	if ls, err := adm.ListPartitionReassignments(ctx, s); err != nil || len(ls) != 0 {
		t.Fatalf("list reassignments of %v: %v %+v", s, err, ls)
	}
	list := kmsg.NewPtrListPartitionReassignmentsRequest() // null topics: every partition
	if resp := requestBroker(t, newClient(t, b.Addr()), list).(*kmsg.ListPartitionReassignmentsResponse); resp.ErrorCode != 0 || len(resp.Topics) != 0 {
		t.Fatalf("list every reassignment: %+v", resp)
	}
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range md.Topics[topic].Partitions {
		if p.Leader != placementNode || !slices.Equal(p.Replicas, []int32{placementNode}) {
			t.Fatalf("partition %d after the reassignments: leader %d replicas %v", p.Partition, p.Leader, p.Replicas)
		}
	}
}

func derefString(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}
