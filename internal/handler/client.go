package handler

import "context"

type clientKey struct{}

type clientInfo struct {
	id, host  string
	principal string   // as authenticated when the request was read
	listener  string   // the name of the connection's listener
	session   *Session // nil: a request from outside a connection
}

// WithClient returns ctx carrying the request's client id, the
// connection's remote host, which groups report to operators, and the
// connection's session: its principal, and the state the SASL requests
// advance.
func WithClient(ctx context.Context, clientID *string, host string, s *Session) context.Context {
	id := ""
	if clientID != nil {
		id = *clientID
	}
	ci := clientInfo{id: id, host: host, session: s}
	if s != nil {
		ci.principal, ci.listener = s.Principal(), s.listener
	}
	return context.WithValue(ctx, clientKey{}, ci)
}

// PrincipalFrom is the principal of the connection a request came on
// ("User:<name>", AnonymousPrincipal without authentication); empty for a
// request from outside a connection.
func PrincipalFrom(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(clientInfo)
	return c.principal
}

// ListenerFrom is the name of the listener a request came in on; empty
// for a request from outside a connection, or on a broker whose listener
// has no name.
func ListenerFrom(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(clientInfo)
	return c.listener
}

func sessionFrom(ctx context.Context) *Session {
	c, _ := ctx.Value(clientKey{}).(clientInfo)
	return c.session
}

func clientFrom(ctx context.Context) (id, host string) {
	c, _ := ctx.Value(clientKey{}).(clientInfo)
	return c.id, c.host
}
