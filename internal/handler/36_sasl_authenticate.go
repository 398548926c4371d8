package handler

// SaslAuthenticate, v0-2 (KIP-152, KIP-368).
//
// Carries one token of the exchange a SaslHandshake v1 began. A failed
// authentication, whatever its cause (a wrong password, an unknown user,
// a malformed token), is answered SASL_AUTHENTICATION_FAILED with one
// message per mechanism, then the connection closes. From v1 a success
// carries the session lifetime, connections.max.reauth.ms (0: none).
// On an authenticated connection, or a listener without SASL, it is
// answered ILLEGAL_SASL_STATE and the connection stays; before a
// handshake the connection is closed unanswered (Session.Admit).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(saslAuthenticateKey, 0, 2, saslAuthenticate) }

func saslAuthenticate(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.SASLAuthenticateRequest)
	resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	s := sessionFrom(ctx)
	if s == nil || s.cfg == nil {
		resp.ErrorCode = errIllegalSaslState
		resp.ErrorMessage = kmsg.StringPtr("this listener does not use SASL")
		return ready(resp)
	}
	if s.state != authExchange {
		resp.ErrorCode = errIllegalSaslState
		resp.ErrorMessage = kmsg.StringPtr("SaslAuthenticate after a successful authentication")
		return ready(resp)
	}
	mech := s.mechanism
	out, err := s.step(req.SASLAuthBytes)
	if err != nil {
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		resp.ErrorMessage = kmsg.StringPtr("authentication failed: invalid credentials for SASL mechanism " + mech)
		return Result{Resp: resp, CloseAfter: err}
	}
	resp.SASLAuthBytes = out
	if s.state == authDone && !s.expires.IsZero() {
		resp.SessionLifetimeMillis = s.cfg.ReauthAfter.Milliseconds()
	}
	return ready(resp)
}
