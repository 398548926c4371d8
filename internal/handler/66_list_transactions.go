package handler

// ListTransactions, v0-2 (KIP-664).
//
// Every transactional id, filtered by state names and producer ids; v1
// adds a minimum running time for ongoing transactions (KIP-994), v2 a
// regular expression on the id (KIP-1152).

import (
	"context"
	"regexp"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/txn"
)

func init() { register(66, 0, 2, listTransactions) }

func listTransactions(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.ListTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	if h.env.Txns == nil {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return ready(resp)
	}
	var pattern *regexp.Regexp
	if req.TransactionalIDPattern != nil && *req.TransactionalIDPattern != "" {
		re, err := regexp.Compile(*req.TransactionalIDPattern)
		if err != nil {
			resp.ErrorCode = kerr.InvalidRegularExpression.Code
			return ready(resp)
		}
		pattern = re
	}
	now := h.env.Clock().UnixMilli()
	for _, t := range h.env.Txns.All() {
		if !listed(req, t, pattern, now) || !h.authorized(ctx, acl.OpDescribe, acl.ResourceTransactionalID, t.ID) {
			continue
		}
		st := kmsg.NewListTransactionsResponseTransactionState()
		st.TransactionalID, st.ProducerID, st.TransactionState = t.ID, t.ProducerID, t.State.String()
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return ready(resp)
}

func listed(req *kmsg.ListTransactionsRequest, t txn.Txn, pattern *regexp.Regexp, now int64) bool {
	switch {
	case len(req.StateFilters) > 0 && !slices.Contains(req.StateFilters, t.State.String()):
		return false
	case len(req.ProducerIDFilters) > 0 && !slices.Contains(req.ProducerIDFilters, t.ProducerID):
		return false
	case req.DurationFilterMillis >= 0 && req.Version >= 1 && (t.StartMs < 0 || now-t.StartMs < req.DurationFilterMillis):
		return false
	case pattern != nil && !pattern.MatchString(t.ID):
		return false
	}
	return true
}
