package handler

// FindCoordinator, v0-6.
//
// Every group and every transactional id is coordinated by this broker
// (one broker holds every partition of the offsets and transaction-state
// topics). v1 adds the key type; v4 batches keys (KIP-699). Share groups
// (key type 2) do not exist yet: they get INVALID_REQUEST rather than a
// coordinator that cannot serve them.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(10, 0, 6, findCoordinator) }

const (
	keyTypeGroup       = 0
	keyTypeTransaction = 1
)

func findCoordinator(h *Handler, _ context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	if req.Version < 4 {
		resp.ErrorCode, resp.ErrorMessage = h.coordinatorFor(req.CoordinatorKey, req.CoordinatorType)
		if resp.ErrorCode == 0 {
			resp.NodeID, resp.Host, resp.Port = h.env.NodeID, h.env.Host, h.env.Port
		} else {
			resp.NodeID, resp.Port = -1, -1
		}
		return ready(resp)
	}
	for _, key := range req.CoordinatorKeys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		c.ErrorCode, c.ErrorMessage = h.coordinatorFor(key, req.CoordinatorType)
		if c.ErrorCode == 0 {
			c.NodeID, c.Host, c.Port = h.env.NodeID, h.env.Host, h.env.Port
		} else {
			c.NodeID, c.Port = -1, -1
		}
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return ready(resp)
}

func (h *Handler) coordinatorFor(key string, keyType int8) (int16, *string) {
	switch {
	case keyType == keyTypeGroup && h.env.Groups != nil, keyType == keyTypeTransaction && h.env.Txns != nil:
		return 0, nil
	case keyType == keyTypeGroup, keyType == keyTypeTransaction:
		return kerr.CoordinatorNotAvailable.Code, nil
	}
	msg := "this broker coordinates consumer groups and transactions only"
	return kerr.InvalidRequest.Code, &msg
}
