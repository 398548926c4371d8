package handler

// ListPartitionReassignments, v0 (KIP-455; flexible).
//
// Lists the reassignments in progress, of every partition (null topics)
// or of the partitions asked. AlterPartitionReassignments never starts one
// (one broker already holds every partition), so the list is always
// empty; as in Kafka's controller, unknown topics and partitions are
// simply not listed, and the top-level error is NONE.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
)

func init() { register(46, 0, 0, listPartitionReassignments) }

func listPartitionReassignments(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.ListPartitionReassignmentsRequest)
	resp := req.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	if !h.authorizedCluster(ctx, acl.OpDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
	}
	return ready(resp)
}
