package handler

// DescribeCluster, v0-1 (KIP-700).
//
// The cluster's brokers and controller (on one broker: itself, which is
// also the controller). v1 adds the endpoint type
// (KIP-919): brokers (1) are listed; asking for controllers gets
// UNSUPPORTED_ENDPOINT_TYPE, since Sluice has no separate controllers.
// Brokers are given at the addresses advertised for the listener the
// request came in on; one without that listener is left out, as in
// Metadata. Asked for, the answer carries the bitfield of the operations
// the principal may perform on the cluster (KIP-430).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
)

func init() { register(60, 0, 1, describeCluster) }

func describeCluster(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	if !h.authorizedCluster(ctx, acl.OpDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return ready(resp)
	}
	resp.EndpointType = req.EndpointType
	if req.Version >= 1 && req.EndpointType != 1 {
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		return ready(resp)
	}
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = h.authorizedOperations(ctx, acl.ResourceCluster, acl.ClusterName)
	}
	resp.ClusterID = h.env.Topics.ClusterID()
	resp.ControllerID = h.env.Cluster.ControllerID()
	listener := ListenerFrom(ctx)
	for _, n := range h.env.Cluster.Nodes() {
		n, ok := n.On(listener)
		if !ok {
			continue
		}
		b := kmsg.NewDescribeClusterResponseBroker()
		b.NodeID, b.Host, b.Port = n.ID, n.Host, n.Port
		resp.Brokers = append(resp.Brokers, b)
	}
	return ready(resp)
}
