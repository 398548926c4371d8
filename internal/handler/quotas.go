package handler

// Enforcing client quotas (KIP-13, KIP-55, KIP-124, KIP-219): the server
// asks, once a request is handled, how long to throttle its client for
// the request's bytes (Produce, against producer_byte_rate) and its
// handling time (every request but the ones a connection needs before
// it is authenticated, against request_percentage); Fetch decides its own
// throttle from the bytes it returns (consumer_byte_rate), since a
// throttled fetch goes without its records. The server puts the larger
// throttle in the response's throttle_time_ms and then reads nothing more
// from the connection until it has passed. The user of a quota is the
// name of the connection's principal (ANONYMOUS without authentication);
// requests from outside a connection are never throttled.

import (
	"context"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/bufpool"
	"sluice/internal/quota"
)

// Throttling reports whether any enforced quota is set: the one check a
// request pays when none is.
func (h *Handler) Throttling() bool { return h.env.Quotas.Active() }

// Throttle records what a handled request used, for its client's
// quotas, and returns how long to throttle the client for it: size is
// the request's bytes, took the time its handling kept the connection's
// reader busy.
func (h *Handler) Throttle(s *Session, clientID *string, key int16, size int, took time.Duration) time.Duration {
	if s == nil || !h.env.Quotas.Active() {
		return 0
	}
	user, id := quotaUser(s.Principal()), ""
	if clientID != nil {
		id = *clientID
	}
	now := h.env.Clock()
	var d time.Duration
	if key == produceKey {
		d = h.env.Quotas.Record(quota.Produce, user, id, float64(size), now)
	}
	switch key {
	case apiVersionsKey, saslHandshakeKey, saslAuthenticateKey:
	default:
		d = max(d, h.env.Quotas.Record(quota.Request, user, id, quota.RequestTime(took), now))
	}
	return d
}

const produceKey = 0

// quotaUser is the user a principal's quotas are set for: its name
// without the type, as Kafka's KafkaPrincipal.getName.
func quotaUser(principal string) string {
	if _, name, ok := strings.Cut(principal, ":"); ok {
		return name
	}
	return principal
}

// quotaClient is who a request counts against; false for the broker's own
// requests, which no quota limits.
func quotaClient(ctx context.Context) (user, id string, ok bool) {
	c, _ := ctx.Value(clientKey{}).(clientInfo)
	if c.session == nil {
		return "", "", false
	}
	return quotaUser(c.principal), c.id, true
}

// fetchQuotaBytes is the most a fetch may return under its client's
// consumer_byte_rate (the quota's burst), so a throttled client is never
// asked for more than it can be given; 0 when no quota bounds it.
func (h *Handler) fetchQuotaBytes(ctx context.Context, req *kmsg.FetchRequest) int {
	if !h.env.Quotas.Active() || fromFollower(req) {
		return 0
	}
	user, id, ok := quotaClient(ctx)
	if !ok {
		return 0
	}
	b, ok := h.env.Quotas.Burst(quota.Fetch, user, id)
	if !ok {
		return 0
	}
	return max(1, int(min(b, 1<<31-1)))
}

// throttleFetch counts a fetch's record bytes against its client's
// consumer_byte_rate. When they do not fit, the response goes without
// records (its partitions keep their offsets, so the client asks again
// from the same place), as from Kafka, and says how long to wait.
func (h *Handler) throttleFetch(ctx context.Context, req *kmsg.FetchRequest, resp *kmsg.FetchResponse) {
	if !h.env.Quotas.Active() || fromFollower(req) {
		return
	}
	user, id, ok := quotaClient(ctx)
	if !ok {
		return
	}
	n := 0
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			n += len(resp.Topics[i].Partitions[j].RecordBatches)
		}
	}
	d, taken := h.env.Quotas.TryRecord(quota.Fetch, user, id, float64(n), h.env.Clock())
	if !taken {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				sp := &resp.Topics[i].Partitions[j]
				bufpool.Put(sp.RecordBatches)
				sp.RecordBatches, sp.AbortedTransactions = noRecords, nil
			}
		}
	}
	resp.ThrottleMillis = max(resp.ThrottleMillis, ThrottleMillis(d))
}

// ThrottleMillis is a throttle as throttle_time_ms carries it: whole
// milliseconds, cut down as Kafka does, at most the field's largest.
func ThrottleMillis(d time.Duration) int32 {
	return int32(min(d.Milliseconds(), 1<<31-1))
}
