package handler

// InitProducerId, v0-5.
//
// For idempotent producers (no transactional id): a new producer id with
// epoch 0, taken from a durable block so that no id is ever handed out
// twice, also across restarts. From v3 (KIP-360) a producer may send its
// current id and epoch to bump the epoch and keep its id, after
// UNKNOWN_PRODUCER_ID or a sequence error; an id this broker never issued,
// or an epoch at its maximum, gets a fresh id instead. Transactional ids
// are not supported yet: they get INVALID_REQUEST rather than a producer
// id without the guarantees a transaction promises.

import (
	"context"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(22, 0, 5, initProducerID) }

func initProducerID(h *Handler, _ context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return ready(resp)
	}
	if req.Version >= 3 && req.ProducerID >= 0 && req.ProducerEpoch >= 0 &&
		req.ProducerID < h.env.Topics.ProducerIDHighMark() && req.ProducerEpoch < math.MaxInt16-1 {
		resp.ProducerID, resp.ProducerEpoch = req.ProducerID, req.ProducerEpoch+1
		return ready(resp)
	}
	id, err := h.env.ProducerIDs.Next()
	if err != nil {
		h.env.Logger.Error("init producer id: no durable id block", "err", err)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return ready(resp)
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return ready(resp)
}
