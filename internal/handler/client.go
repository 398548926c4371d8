package handler

import "context"

type clientKey struct{}

type clientInfo struct{ id, host string }

// WithClient returns ctx carrying the request's client id and the
// connection's remote host, which groups report to operators.
func WithClient(ctx context.Context, clientID *string, host string) context.Context {
	id := ""
	if clientID != nil {
		id = *clientID
	}
	return context.WithValue(ctx, clientKey{}, clientInfo{id, host})
}

func clientFrom(ctx context.Context) (id, host string) {
	c, _ := ctx.Value(clientKey{}).(clientInfo)
	return c.id, c.host
}
