package handler

// FindCoordinator, v0-6.
//
// The coordinator of a group or transactional id is the node the cluster
// names for it (on one broker: this broker, which holds every partition of
// the offsets and transaction-state topics); a broker without that
// coordinator running answers COORDINATOR_NOT_AVAILABLE. v1 adds the key
// type; v4 batches keys (KIP-699). Share groups
// (key type 2) do not exist yet: they get INVALID_REQUEST rather than a
// coordinator that cannot serve them. The coordinator is given at the
// address advertised for the listener the request came in on; one without
// that listener is COORDINATOR_NOT_AVAILABLE, as for a broker that is down.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/cluster"
)

func init() { register(10, 0, 6, findCoordinator) }

const (
	keyTypeGroup       = 0
	keyTypeTransaction = 1
)

func findCoordinator(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	if req.Version < 4 {
		var n cluster.Node
		n, resp.ErrorCode, resp.ErrorMessage = h.coordinatorFor(ctx, req.CoordinatorKey, req.CoordinatorType)
		resp.NodeID, resp.Host, resp.Port = n.ID, n.Host, n.Port
		return ready(resp)
	}
	for _, key := range req.CoordinatorKeys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		var n cluster.Node
		n, c.ErrorCode, c.ErrorMessage = h.coordinatorFor(ctx, key, req.CoordinatorType)
		c.NodeID, c.Host, c.Port = n.ID, n.Host, n.Port
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return ready(resp)
}

// noCoordinator is the node of an answer with an error.
var noCoordinator = cluster.Node{ID: -1, Port: -1}

func (h *Handler) coordinatorFor(ctx context.Context, key string, keyType int8) (cluster.Node, int16, *string) {
	var running bool
	switch keyType {
	case keyTypeGroup:
		running = h.env.Groups != nil
		if !h.authorized(ctx, acl.OpDescribe, acl.ResourceGroup, key) {
			return noCoordinator, kerr.GroupAuthorizationFailed.Code, nil
		}
	case keyTypeTransaction:
		running = h.env.Txns != nil
		if !h.authorized(ctx, acl.OpDescribe, acl.ResourceTransactionalID, key) {
			return noCoordinator, kerr.TransactionalIDAuthorizationFailed.Code, nil
		}
	default:
		msg := "this broker coordinates consumer groups and transactions only"
		return noCoordinator, kerr.InvalidRequest.Code, &msg
	}
	n, ok := h.env.Cluster.Coordinator(cluster.CoordinatorType(keyType), key)
	if !ok || (n.ID == h.env.Cluster.Self().ID && !running) {
		return noCoordinator, kerr.CoordinatorNotAvailable.Code, nil
	}
	if n, ok = n.On(ListenerFrom(ctx)); !ok {
		return noCoordinator, kerr.CoordinatorNotAvailable.Code, nil
	}
	return n, 0, nil
}
