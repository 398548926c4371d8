// Package metrics is Sluice's Prometheus registry and its HTTP endpoints
// (/metrics, /healthz, /readyz). Names follow what Kafka users already
// graph from the JMX exporter and kafka_exporter; what Kafka has no name
// for is prefixed sluice_ (docs/operations.md, "Metrics", lists them all).
//
// Two kinds of metric live here:
//
//   - events, counted where they happen through small observer interfaces
//     the server, the handler and the file system call (Request, Appended,
//     Fetched, the Sync of a file). Their counters are resolved once, per
//     API key or per topic, so the produce and fetch paths allocate nothing
//     for metrics;
//   - state (log size, segments, connections, groups, lag, producers,
//     transactions), computed at scrape time by a Collector that reads the
//     broker's own accessors, so nothing on the hot path keeps it.
//
// A Metrics belongs to one broker: two brokers in one test process never
// share counters.
package metrics

import (
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DefaultSlowFsync is how long an fsync may take before it is logged
// (etcd warns at one second too).
const DefaultSlowFsync = time.Second

// Config configures a Metrics. Zero values take the documented defaults.
type Config struct {
	// SlowFsync: an fsync at least this long is logged with the file and
	// the time it took; default DefaultSlowFsync, negative never.
	SlowFsync time.Duration
	// APIs are the API keys the broker handles; only those get request
	// series. Nil: every key kmsg knows.
	APIs   []int16
	Logger *slog.Logger
}

// Metrics is one broker's registry and the counters its hot paths bump.
type Metrics struct {
	cfg Config
	reg *prometheus.Registry

	// Indexed by API key; nil for keys the broker does not handle.
	requests [kmsg.MaxKey + 1]prometheus.Counter
	// throttled and throttleTime count the responses a client quota
	// throttled and the throttle time they carried, by API.
	throttled, throttleTime *prometheus.CounterVec
	latency                 [kmsg.MaxKey + 1]prometheus.Observer

	fsync      prometheus.Histogram
	slowFsyncs prometheus.Counter
	duplicates prometheus.Counter
	txnEnds    *prometheus.CounterVec // committed, aborted
	txnTimeout prometheus.Counter

	// topics maps a topic's name to its *topicCounters; it grows with the
	// topics produced to or fetched from. A sync.Map, so that the produce
	// and fetch paths of every partition read it without a shared lock.
	topics sync.Map
	// exists, once the broker serves (Watch), says whether a topic is
	// still there: a deleted topic's counters are dropped at the next
	// scrape instead of staying until a restart.
	exists atomic.Pointer[func(string) bool]

	ready atomic.Bool
}

// topicCounters are one topic's BrokerTopicMetrics, bumped with atomics
// and read by the collector at scrape time.
type topicCounters struct {
	bytesIn, bytesOut, messagesIn atomic.Uint64
}

// New returns a broker's metrics with its event counters registered. The
// state collector is added by Watch once the broker's parts exist.
func New(cfg Config) *Metrics {
	if cfg.SlowFsync == 0 {
		cfg.SlowFsync = DefaultSlowFsync
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{cfg: cfg, reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registerRequests()
	m.fsync = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "sluice_fsync_duration_seconds",
		Help:    "Time each fsync of a segment, index, checkpoint, snapshot or directory took.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 100µs .. 3.3s
	})
	m.slowFsyncs = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sluice_fsync_slow_total",
		Help: "Fsyncs that took at least the slow-fsync threshold (each is logged).",
	})
	m.duplicates = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sluice_producer_duplicate_batches_total",
		Help: "Retried idempotent batches recognised as duplicates: answered with their original offsets, not appended again.",
	})
	m.txnEnds = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_transactions_total",
		Help: "Transactions whose end is durable in the transaction log, by result: committed or aborted (by the producer, by fencing or by timeout).",
	}, []string{"result"})
	m.txnEnds.WithLabelValues("committed")
	m.txnEnds.WithLabelValues("aborted")
	m.txnTimeout = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sluice_transactions_timed_out_total",
		Help: "Transactions the coordinator aborted because they outlived their transaction.timeout.ms (also counted in sluice_transactions_total{result=\"aborted\"}).",
	})
	m.reg.MustRegister(m.fsync, m.slowFsyncs, m.duplicates, m.txnEnds, m.txnTimeout, topicCollector{m})
	return m
}

// registerRequests resolves one request counter and one latency histogram
// per API key the broker handles, so Request is an array index.
func (m *Metrics) registerRequests() {
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kafka_network_requestmetrics_requests_total",
		Help: "Requests answered, by API (Kafka's RequestMetrics RequestsPerSec).",
	}, []string{"request"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kafka_network_requestmetrics_totaltime_seconds",
		Help:    "Time from a request's arrival to its response being ready, by API (Kafka's RequestMetrics TotalTimeMs, as a histogram).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18), // 100µs .. 13s (long polls)
	}, []string{"request"})
	for k := int16(0); k <= kmsg.MaxKey; k++ {
		name := kmsg.NameForKey(k)
		if name == "" || (m.cfg.APIs != nil && !slices.Contains(m.cfg.APIs, k)) {
			continue
		}
		m.requests[k] = reqs.WithLabelValues(name)
		m.latency[k] = lat.WithLabelValues(name)
	}
	m.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_requests_throttled_total",
		Help: "Responses throttled by a client quota (their throttle_time_ms above 0), by API.",
	}, []string{"request"})
	m.throttleTime = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_request_throttle_seconds_total",
		Help: "Throttle time given to clients over their quotas (Kafka's throttle-time metrics, summed), by API.",
	}, []string{"request"})
	m.reg.MustRegister(reqs, lat, m.throttled, m.throttleTime)
}

// Throttled counts one response a client quota throttled by d. Rare by
// nature (only clients over a quota), so the label lookup is fine here.
func (m *Metrics) Throttled(key int16, d time.Duration) {
	name := kmsg.NameForKey(key)
	if name == "" {
		return
	}
	m.throttled.WithLabelValues(name).Inc()
	m.throttleTime.WithLabelValues(name).Add(d.Seconds())
}

// Registry is the broker's registry (tests gather from it directly).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Request counts one answered request of an API key and how long it took
// to answer. It allocates nothing.
func (m *Metrics) Request(key int16, elapsed time.Duration) {
	if key < 0 || int(key) >= len(m.requests) || m.requests[key] == nil {
		return
	}
	m.requests[key].Inc()
	m.latency[key].Observe(elapsed.Seconds())
}

// Appended counts a produced batch of a topic: bytes and records in when it
// was appended, a refused duplicate when it was a retry already stored.
func (m *Metrics) Appended(topic string, bytes, records int, duplicate bool) {
	if duplicate {
		m.duplicates.Inc()
		return
	}
	c := m.topic(topic)
	c.bytesIn.Add(uint64(bytes))
	c.messagesIn.Add(uint64(records))
}

// Fetched counts record bytes a fetch returned from a topic.
func (m *Metrics) Fetched(topic string, bytes int) {
	m.topic(topic).bytesOut.Add(uint64(bytes))
}

// topic returns a topic's counters; after the first call for a topic it is
// a lock-free lookup, which allocates nothing.
func (m *Metrics) topic(name string) *topicCounters {
	if c, ok := m.topics.Load(name); ok {
		return c.(*topicCounters)
	}
	c, _ := m.topics.LoadOrStore(name, &topicCounters{})
	return c.(*topicCounters)
}

// Decided counts a transaction whose commit or abort is durable.
func (m *Metrics) Decided(commit bool) {
	if commit {
		m.txnEnds.WithLabelValues("committed").Inc()
	} else {
		m.txnEnds.WithLabelValues("aborted").Inc()
	}
}

// TimedOut counts a transaction aborted for outliving its timeout.
func (m *Metrics) TimedOut() { m.txnTimeout.Inc() }

// observeSync records one fsync and logs it when it was slow.
func (m *Metrics) observeSync(name string, took time.Duration) {
	m.fsync.Observe(took.Seconds())
	if m.cfg.SlowFsync > 0 && took >= m.cfg.SlowFsync {
		m.slowFsyncs.Inc()
		m.cfg.Logger.Warn("sluice: slow fsync", "file", name, "took", took.String(), "threshold", m.cfg.SlowFsync.String())
	}
}

// SetReady marks the broker ready (recovery finished, serving) or not
// (shutting down); /readyz answers from it.
func (m *Metrics) SetReady(ready bool) { m.ready.Store(ready) }
