// Package handler turns decoded Kafka requests into responses: one file per
// API key, each opening with the versions it handles and registering them.
// It is the only layer that knows request versions; below it, packages
// speak Sluice's own types.
package handler

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/cluster"
	"sluice/internal/fetchsession"
	"sluice/internal/group"
	"sluice/internal/producerid"
	"sluice/internal/quota"
	"sluice/internal/topics"
	"sluice/internal/txn"
)

// Env is what the handlers reach: the topics, the coordinators, and the
// cluster, which says where everything lives (this broker's identity
// included).
type Env struct {
	Topics           *topics.Manager
	Cluster          cluster.Cluster
	Groups           *group.Service // nil: no group coordinator
	Txns             *txn.Service   // nil: no transaction coordinator
	Markers          txn.MarkerWriter
	FetchSessions    *fetchsession.Cache // nil: a cache with the default size
	ProducerIDs      *producerid.Allocator
	AutoCreateTopics bool
	DataDir          string // reported by DescribeLogDirs
	// BrokerConfigs are the broker's settings that DescribeConfigs lists
	// for the broker resource; nil: the few the handler knows itself.
	BrokerConfigs []BrokerConfig
	Logger        *slog.Logger
	Clock         func() time.Time
	// Ctx ends when the broker shuts down, ending long polls and durable
	// waits early.
	Ctx context.Context
	// Records is told what produce appends and fetch returns (the
	// broker's metrics); nil: nobody.
	Records RecordObserver
	// SASL, when set, makes every connection authenticate first; nil:
	// connections are User:ANONYMOUS (PLAINTEXT).
	SASL *SASLConfig
	// Authorizer decides what each principal may do; nil or disabled:
	// everything is allowed. The ACL APIs keep bindings either way.
	Authorizer *acl.Authorizer
	// Quotas measures clients against their client quotas and says how
	// long to throttle them; nil: no quota is enforced (they are still
	// stored and described).
	Quotas *quota.Limiter
}

// RecordObserver is told of the records the produce and fetch paths move.
// It is called once per partition and must not allocate.
type RecordObserver interface {
	// Appended: a batch of a topic was appended, or was a duplicate of
	// one of its producer's last batches and was not appended again.
	Appended(topic string, bytes, records int, duplicate bool)
	// Fetched: a fetch returns bytes of a topic's record batches.
	Fetched(topic string, bytes int)
}

type noRecordObserver struct{}

func (noRecordObserver) Appended(string, int, int, bool) {}
func (noRecordObserver) Fetched(string, int)             {}

// Result is a handler's answer. Either Resp is ready, or Wait produces it
// later (an acks=all produce waiting for its fsync, a long-poll fetch), or
// NoResponse is set (acks=0). The server writes results in request order.
type Result struct {
	Resp       kmsg.Response
	Wait       func() kmsg.Response
	NoResponse bool
	// CloseConn closes the connection once the results before this one are
	// written: an acks=0 produce that failed has no other way to tell its
	// client (it then refreshes metadata and reconnects, as with Kafka).
	CloseConn bool
	// CloseAfter, when set, closes the connection once this response is
	// written, and is logged as the reason: a failed authentication is
	// answered, then the connection ends. Nothing after it is read.
	CloseAfter error
	// Abandon, when set, must be called if Wait never will be (the
	// connection failed first): an acks=all produce leaves the sync of
	// its appends to its Wait, and hands it to the flushers instead.
	Abandon func()
	// Release, when set, is called once the response has been encoded
	// for writing: a fetch then returns its record buffers to the pool.
	Release func(kmsg.Response)
}

// ready wraps a response that needs no waiting.
func ready(r kmsg.Response) Result { return Result{Resp: r} }

// Handler dispatches requests to the registered APIs.
type Handler struct {
	env Env
}

// New returns a handler over env.
func New(env Env) *Handler {
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	if env.Ctx == nil {
		env.Ctx = context.Background()
	}
	if env.Clock == nil {
		env.Clock = time.Now
	}
	if env.Records == nil {
		env.Records = noRecordObserver{}
	}
	if env.FetchSessions == nil {
		env.FetchSessions = fetchsession.New(fetchsession.Config{})
	}
	return &Handler{env: env}
}

type handleFunc func(h *Handler, ctx context.Context, req kmsg.Request) Result

type api struct {
	key, min, max int16
	handle        handleFunc
}

// registry holds every implemented API; ApiVersions is built from it, so
// what is advertised cannot drift from what is handled.
var registry = map[int16]api{}

func register(key, min, max int16, fn handleFunc) {
	registry[key] = api{key: key, min: min, max: max, handle: fn}
}

// Supports reports whether key at version is implemented.
func Supports(key, version int16) bool {
	a, ok := registry[key]
	return ok && version >= a.min && version <= a.max
}

// Handle answers one decoded request. The caller has checked Supports.
func (h *Handler) Handle(ctx context.Context, req kmsg.Request) Result {
	return registry[req.Key()].handle(h, ctx, req)
}

// VersionRange is one implemented API's range.
type VersionRange struct{ Key, Min, Max int16 }

// Versions lists the implemented APIs, sorted by key.
func Versions() []VersionRange {
	out := make([]VersionRange, 0, len(registry))
	for _, a := range registry {
		out = append(out, VersionRange{a.key, a.min, a.max})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
