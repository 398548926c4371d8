package handler

import "context"

type clientKey struct{}

type clientInfo struct {
	id, host  string
	principal string   // as authenticated when the request was read
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
		ci.principal = s.Principal()
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

func sessionFrom(ctx context.Context) *Session {
	c, _ := ctx.Value(clientKey{}).(clientInfo)
	return c.session
}

func clientFrom(ctx context.Context) (id, host string) {
	c, _ := ctx.Value(clientKey{}).(clientInfo)
	return c.id, c.host
}
