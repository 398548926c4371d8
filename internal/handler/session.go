package handler

import (
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/sasl"
)

// SASLConfig turns on SASL authentication: every connection must
// authenticate with one of Mechanisms before anything but ApiVersions.
type SASLConfig struct {
	Mechanisms []string // enabled, in the order SaslHandshake lists them
	Auth       *sasl.Authenticator
	// ReauthAfter is connections.max.reauth.ms (KIP-368): the session
	// lifetime given to clients, after which a connection that has not
	// authenticated again is closed at its next request; 0: never.
	ReauthAfter time.Duration
}

// AnonymousPrincipal is the principal of a connection on a listener
// without authentication.
const AnonymousPrincipal = "User:ANONYMOUS"

type authState int

const (
	authStart    authState = iota // SASL listener, nothing exchanged yet
	authExchange                  // after a handshake: SaslAuthenticate tokens
	authRaw                       // after a v0 handshake: raw tokens, not Kafka requests
	authDone                      // authenticated (or no SASL on the listener)
)

// Session is one connection's authentication: the state of its SASL
// exchange and the principal it authenticated as. Its methods are called
// by the connection's read loop only, one request at a time.
type Session struct {
	cfg       *SASLConfig // nil: no authentication on this listener
	listener  string      // the name of the listener the connection came in on
	clock     func() time.Time
	state     authState
	mechanism string
	exchange  sasl.Exchange
	principal string
	user      string    // the authenticated user, kept across re-authentication
	expires   time.Time // zero: never
}

// Listener is what a connection's session needs to know of the listener
// it came in on.
type Listener struct {
	// Name is the listener's name: Metadata, FindCoordinator and
	// DescribeCluster answer with the addresses advertised for it. Empty:
	// the node's first address.
	Name string
	// SASL makes the connection authenticate first (SASL_PLAINTEXT,
	// SASL_SSL); the handler's SASLConfig says how.
	SASL bool
	// Principal is the connection's principal without SASL: the client
	// certificate's on an SSL listener with one, else AnonymousPrincipal.
	Principal string
}

// NewSession returns the state of a new connection on a listener.
func (h *Handler) NewSession(l Listener) *Session {
	s := &Session{clock: h.env.Clock, listener: l.Name}
	if l.SASL {
		s.cfg = h.env.SASL
		if s.cfg == nil {
			// A SASL listener on a handler without SASL settings: no
			// mechanism is enabled, so nobody authenticates, rather than
			// everyone being let in unauthenticated.
			s.cfg = &SASLConfig{}
		}
	}
	if s.cfg == nil {
		s.state, s.principal = authDone, l.Principal
		if s.principal == "" {
			s.principal = AnonymousPrincipal
		}
	}
	return s
}

// Principal is the connection's principal ("User:<name>"), empty until
// it has authenticated.
func (s *Session) Principal() string { return s.principal }

// Admit says whether a request with the API key may be handled now; an
// error closes the connection. Before authentication only ApiVersions and
// SaslHandshake are admitted, during an exchange only SaslAuthenticate,
// and after the session expired only a new SaslHandshake (KIP-368).
func (s *Session) Admit(key int16) error {
	name := kmsg.NameForKey(key)
	switch s.state {
	case authStart:
		if key == apiVersionsKey || key == saslHandshakeKey {
			return nil
		}
		return fmt.Errorf("%s request before SASL authentication", name)
	case authExchange:
		if key == saslAuthenticateKey {
			return nil
		}
		return fmt.Errorf("%s request during a SASL exchange", name)
	case authRaw:
		return fmt.Errorf("%s request where a SASL token was due", name)
	}
	if !s.expires.IsZero() && key != saslHandshakeKey && s.clock().After(s.expires) {
		return fmt.Errorf("%s request after the SASL session of %s expired without re-authentication", name, s.principal)
	}
	return nil
}

const (
	saslHandshakeKey    = 17
	apiVersionsKey      = 18
	saslAuthenticateKey = 36
)

// WantsRawToken reports whether the connection's next frame is a raw SASL
// token (after a v0 SaslHandshake) rather than a Kafka request.
func (s *Session) WantsRawToken() bool { return s.state == authRaw }

// RawToken runs one raw token of a v0 exchange and returns the raw token
// to answer with. An error closes the connection: the raw framing has no
// way to say why.
func (s *Session) RawToken(in []byte) ([]byte, error) {
	out, err := s.step(in)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// handshake begins an exchange of the mechanism; raw: the tokens come
// without Kafka framing (SaslHandshake v0).
func (s *Session) handshake(mechanism string, raw bool) (errCode int16, closeErr error) {
	if s.state == authDone && s.user != "" && mechanism != s.mechanism {
		return errIllegalSaslState, fmt.Errorf("re-authentication with %s after %s", mechanism, s.mechanism)
	}
	if !slices.Contains(s.cfg.Mechanisms, mechanism) {
		return errUnsupportedSaslMechanism, fmt.Errorf("SASL mechanism %q is not enabled", mechanism)
	}
	ex, ok := s.cfg.Auth.Start(mechanism)
	if !ok {
		return errUnsupportedSaslMechanism, fmt.Errorf("SASL mechanism %q is not enabled", mechanism)
	}
	s.mechanism, s.exchange, s.state = mechanism, ex, authExchange
	if raw {
		s.state = authRaw
	}
	return 0, nil
}

// step runs one token of the exchange. On success that ends it, the
// session is authenticated (again) and its lifetime starts.
func (s *Session) step(in []byte) ([]byte, error) {
	out, done, err := s.exchange.Step(in)
	if err != nil {
		return nil, fmt.Errorf("SASL %s authentication failed: %w", s.mechanism, err)
	}
	if !done {
		return out, nil
	}
	user := s.exchange.User()
	if s.user != "" && user != s.user {
		return nil, fmt.Errorf("SASL re-authentication as %q on a connection of %q", user, s.user)
	}
	s.user, s.principal, s.state, s.exchange = user, "User:"+user, authDone, nil
	s.expires = time.Time{}
	if s.cfg.ReauthAfter > 0 {
		s.expires = s.clock().Add(s.cfg.ReauthAfter)
	}
	return out, nil
}
