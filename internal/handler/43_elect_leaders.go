package handler

// ElectLeaders, v0-2 (KIP-183; v1 adds the election type, KIP-460; v2 is
// flexible).
//
// Elects the preferred replica (type 0, the only one at v0) or, uncleanly,
// any replica (type 1) as each partition's leader. Every partition here
// already has its preferred replica as leader (placement.go), so both are
// ELECTION_NOT_NEEDED, as Kafka answers for a partition whose leader is
// already the one asked for. An unknown topic or partition is
// UNKNOWN_TOPIC_OR_PARTITION. A null topic list means every partition,
// and then, as in Kafka, each topic is listed but the partitions that
// needed no election are left out. Another election type is
// INVALID_REQUEST, at the top (v1+) and for every partition asked. No
// election runs, so the timeout is not used.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
)

func init() { register(43, 0, 2, electLeaders) }

// Election types (KIP-460).
const (
	electPreferred int8 = 0
	electUnclean   int8 = 1
)

func electLeaders(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.ElectLeadersRequest)
	resp := req.ResponseKind().(*kmsg.ElectLeadersResponse)
	if !h.authorizedCluster(ctx, acl.OpAlter) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		for _, rt := range req.Topics {
			resp.Topics = append(resp.Topics, electionResults(rt, func(int32) (int16, *string) { return resp.ErrorCode, nil }))
		}
		return ready(resp)
	}
	how := req.ElectionType
	if req.Version == 0 {
		how = electPreferred
	}
	if how != electPreferred && how != electUnclean {
		resp.ErrorCode = kerr.InvalidRequest.Code
		msg := fmt.Sprintf("unknown election type %d", how)
		for _, rt := range req.Topics {
			resp.Topics = append(resp.Topics, electionResults(rt, func(int32) (int16, *string) { return resp.ErrorCode, &msg }))
		}
		return ready(resp)
	}
	if req.Topics == nil {
		resp.Topics = h.electEverywhere(how)
		return ready(resp)
	}
	for _, rt := range req.Topics {
		resp.Topics = append(resp.Topics, electionResults(rt, func(p int32) (int16, *string) { return h.electLeader(rt.Topic, p, how) }))
	}
	return ready(resp)
}

// electionResults answers each partition of rt with result.
func electionResults(rt kmsg.ElectLeadersRequestTopic, result func(partition int32) (int16, *string)) kmsg.ElectLeadersResponseTopic {
	st := kmsg.NewElectLeadersResponseTopic()
	st.Topic = rt.Topic
	for _, p := range rt.Partitions {
		sp := kmsg.NewElectLeadersResponseTopicPartition()
		sp.Partition = p
		sp.ErrorCode, sp.ErrorMessage = result(p)
		st.Partitions = append(st.Partitions, sp)
	}
	return st
}

// electEverywhere runs the election on every partition of every topic and
// answers the ones that needed one.
func (h *Handler) electEverywhere(how int8) []kmsg.ElectLeadersResponseTopic {
	var out []kmsg.ElectLeadersResponseTopic
	for _, t := range sortedTopics(h.env.Topics.All()) {
		st := kmsg.NewElectLeadersResponseTopic()
		st.Topic = t.Name
		for i := range t.Partitions {
			code, msg := h.electLeader(t.Name, int32(i), how)
			if code == kerr.ElectionNotNeeded.Code {
				continue
			}
			sp := kmsg.NewElectLeadersResponseTopicPartition()
			sp.Partition, sp.ErrorCode, sp.ErrorMessage = int32(i), code, msg
			st.Partitions = append(st.Partitions, sp)
		}
		out = append(out, st)
	}
	return out
}

// electLeader answers the election of one partition: its error code and
// message.
func (h *Handler) electLeader(topic string, partition int32, how int8) (int16, *string) {
	if h.env.Topics.Partition(topic, partition) == nil {
		return unknownPartition(h.env.Topics.Get(topic) != nil, topic, partition)
	}
	leader, replicas := h.leaderOf(topic, partition), h.replicasOf(topic, partition)
	var err *kerr.Error
	switch {
	case how == electPreferred && leader == replicas[0], how == electUnclean && leader >= 0:
		err = kerr.ElectionNotNeeded
	case how == electPreferred:
		// Sluice cannot move leadership (yet): the replica asked for
		// cannot be made leader.
		err = kerr.PreferredLeaderNotAvailable
	default:
		err = kerr.EligibleLeadersNotAvailable
	}
	msg := err.Description
	return err.Code, &msg
}

// unknownPartition is the UNKNOWN_TOPIC_OR_PARTITION answer for a topic
// that does not exist or a partition it does not have.
func unknownPartition(topicExists bool, topic string, partition int32) (int16, *string) {
	msg := fmt.Sprintf("topic %s does not exist", topic)
	if topicExists {
		msg = fmt.Sprintf("topic %s has no partition %d", topic, partition)
	}
	return kerr.UnknownTopicOrPartition.Code, &msg
}
