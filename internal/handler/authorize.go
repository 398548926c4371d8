package handler

// Authorization: each handler asks, before it changes anything, whether
// the request's principal may perform Kafka's operation for that API on
// each resource it names, and answers a refusal with the response's
// *_AUTHORIZATION_FAILED code where the refused resource is reported
// (docs/operations.md lists the operation per API).

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"sluice/internal/acl"
)

// authorizing reports whether requests are checked at all, so a hot path
// can skip building what a check needs.
func (h *Handler) authorizing() bool { return h.env.Authorizer.Enabled() }

// authorized reports whether the request's principal, from its host, may
// perform op on the resource. A request from outside a connection (the
// broker itself) has no principal and is always allowed.
func (h *Handler) authorized(ctx context.Context, op acl.Operation, rt acl.ResourceType, name string) bool {
	if !h.env.Authorizer.Enabled() {
		return true
	}
	c, _ := ctx.Value(clientKey{}).(clientInfo)
	if c.principal == "" && c.session == nil {
		return true
	}
	// The host is kept as groups report it, with Kafka's leading slash;
	// ACLs name the bare address.
	return h.env.Authorizer.Authorize(c.principal, strings.TrimPrefix(c.host, "/"), op, rt, name)
}

// authorizedAny reports whether the request's principal may perform op on
// some resource of type rt (acl.Authorizer.AuthorizeAny).
func (h *Handler) authorizedAny(ctx context.Context, op acl.Operation, rt acl.ResourceType) bool {
	if !h.env.Authorizer.Enabled() {
		return true
	}
	c, _ := ctx.Value(clientKey{}).(clientInfo)
	if c.principal == "" && c.session == nil {
		return true
	}
	return h.env.Authorizer.AuthorizeAny(c.principal, strings.TrimPrefix(c.host, "/"), op, rt)
}

func (h *Handler) authorizedTopic(ctx context.Context, op acl.Operation, topic string) bool {
	return h.authorized(ctx, op, acl.ResourceTopic, topic)
}

func (h *Handler) authorizedCluster(ctx context.Context, op acl.Operation) bool {
	return h.authorized(ctx, op, acl.ResourceCluster, acl.ClusterName)
}

// topicAuth caches one request's decisions by topic, for the APIs that
// name a topic once per partition. The last decision is kept apart, so a
// request of one topic (the usual produce or fetch) allocates nothing.
type topicAuth struct {
	h        *Handler
	ctx      context.Context
	op       acl.Operation
	last     string
	lastOK   bool
	haveLast bool
	ok       map[string]bool
}

func (h *Handler) topicAuth(ctx context.Context, op acl.Operation) topicAuth {
	return topicAuth{h: h, ctx: ctx, op: op}
}

func (a *topicAuth) allowed(topic string) bool {
	if a == nil || !a.h.authorizing() {
		return true
	}
	if a.haveLast && a.last == topic {
		return a.lastOK
	}
	v, ok := a.ok[topic]
	if !ok {
		v = a.h.authorizedTopic(a.ctx, a.op, topic)
		if a.haveLast {
			if a.ok == nil {
				a.ok = map[string]bool{a.last: a.lastOK}
			}
			a.ok[topic] = v
		}
	}
	a.last, a.lastOK, a.haveLast = topic, v, true
	return v
}

// configDenied is the code refusing op (DescribeConfigs or AlterConfigs)
// on a config resource, or 0: a topic's configs are the topic's, a
// broker's the cluster's. Other resource types are left to the handlers,
// which refuse them.
func (h *Handler) configDenied(ctx context.Context, op acl.Operation, resourceType int8, name string) int16 {
	switch resourceType {
	case resourceTopic:
		if !h.authorizedTopic(ctx, op, name) {
			return kerr.TopicAuthorizationFailed.Code
		}
	case resourceBroker:
		if !h.authorizedCluster(ctx, op) {
			return kerr.ClusterAuthorizationFailed.Code
		}
	}
	return 0
}

// authorizedOperations is the bitfield of what the request's principal
// may do to the resource (KIP-430): every operation of its type when
// authorization is off.
func (h *Handler) authorizedOperations(ctx context.Context, rt acl.ResourceType, name string) int32 {
	return acl.Operations(rt, func(op acl.Operation) bool { return h.authorized(ctx, op, rt, name) })
}
