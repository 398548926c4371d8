package handler

// AlterPartitionReassignments, v0-1 (KIP-455; v1 adds
// allow_replication_factor_change, KIP-860; both flexible).
//
// Moves partitions to new replica lists, or cancels a move in progress
// (null replicas). Per partition, in the order of Kafka's controller: an
// unknown topic or partition is UNKNOWN_TOPIC_OR_PARTITION; a cancel is
// NO_REASSIGNMENT_IN_PROGRESS, since none ever is; an empty list, a broker
// that is not registered or one named twice is INVALID_REPLICA_ASSIGNMENT
// (brokers checked in ascending order, so the message names the smallest
// offender). The one valid list on one broker is that broker alone, which
// is where every partition already is (placement.go): success, nothing
// starts, and the replication factor cannot have changed, so v1's flag
// changes no answer. Nothing runs in the background, so the timeout is not
// used.

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
)

func init() { register(45, 0, 1, alterPartitionReassignments) }

func alterPartitionReassignments(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.AlterPartitionAssignmentsRequest)
	resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	if !h.authorizedCluster(ctx, acl.OpAlter) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return ready(resp)
	}
	resp.AllowReplicationFactorChange = req.AllowReplicationFactorChange
	for _, rt := range req.Topics {
		st := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.ErrorCode, sp.ErrorMessage = h.reassign(rt.Topic, rp.Partition, rp.Replicas)
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return ready(resp)
}

// reassign answers the reassignment of one partition to target (nil: a
// cancel): its error code and message.
func (h *Handler) reassign(topic string, partition int32, target []int32) (int16, *string) {
	if h.env.Topics.Partition(topic, partition) == nil {
		return unknownPartition(h.env.Topics.Get(topic) != nil, topic, partition)
	}
	if target == nil {
		msg := kerr.NoReassignmentInProgress.Description
		return kerr.NoReassignmentInProgress.Code, &msg
	}
	if msg := h.invalidAssignment(target); msg != "" {
		return kerr.InvalidReplicaAssignment.Code, &msg
	}
	if !slices.Equal(target, h.replicasOf(topic, partition)) {
		msg := "Sluice cannot move replicas between brokers yet"
		return kerr.InvalidReplicaAssignment.Code, &msg
	}
	return 0, nil
}

// invalidAssignment says why a manual replica list is invalid, or "".
func (h *Handler) invalidAssignment(replicas []int32) string {
	if len(replicas) == 0 {
		return "the replica list is empty"
	}
	sorted := slices.Sorted(slices.Values(replicas))
	for i, id := range sorted {
		switch {
		case !h.brokerRegistered(id):
			return fmt.Sprintf("broker %d is not registered", id)
		case i > 0 && sorted[i-1] == id:
			return fmt.Sprintf("broker %d is named more than once", id)
		}
	}
	return ""
}
