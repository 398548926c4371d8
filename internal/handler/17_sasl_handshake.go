package handler

// SaslHandshake, v0-1 (KIP-152).
//
// Names the mechanism the connection will authenticate with and lists
// the enabled ones. On a listener without SASL: ILLEGAL_SASL_STATE, and
// the connection stays. A mechanism that is not enabled:
// UNSUPPORTED_SASL_MECHANISM, then the connection closes, as it does for
// a handshake in the middle of an exchange (ILLEGAL_SASL_STATE). v1 is
// followed by SaslAuthenticate requests; v0 by raw SASL tokens, each in a
// plain length-prefixed frame, as clients from before KIP-152 send them.
// An authenticated connection may shake hands again to re-authenticate
// (KIP-368), with the same mechanism and as the same user.

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(saslHandshakeKey, 0, 1, saslHandshake) }

var (
	errIllegalSaslState         = kerr.IllegalSaslState.Code
	errUnsupportedSaslMechanism = kerr.UnsupportedSaslMechanism.Code
)

func saslHandshake(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.SASLHandshakeRequest)
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	s := sessionFrom(ctx)
	if s == nil || s.cfg == nil {
		resp.ErrorCode = errIllegalSaslState
		return ready(resp)
	}
	resp.SupportedMechanisms = append([]string(nil), s.cfg.Mechanisms...)
	if s.state != authStart && s.state != authDone {
		resp.ErrorCode = errIllegalSaslState
		return Result{Resp: resp, CloseAfter: errors.New("SaslHandshake during a SASL exchange")}
	}
	if code, err := s.handshake(req.Mechanism, req.Version == 0); err != nil {
		resp.ErrorCode = code
		return Result{Resp: resp, CloseAfter: err}
	}
	return ready(resp)
}
