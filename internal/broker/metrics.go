package broker

import (
	"fmt"

	"sluice/internal/handler"
	"sluice/internal/metrics"
)

// brokerMetrics is the broker's metrics and, with --metrics-listen, their
// HTTP endpoint, which runs from before recovery to the end of Close.
type brokerMetrics struct {
	m   *metrics.Metrics
	srv *metrics.Server // nil without MetricsListen
}

// startMetrics creates the broker's metrics, routes cfg.FS through their
// fsync timer and starts the endpoint, not ready yet.
func startMetrics(cfg *Config) (*brokerMetrics, error) {
	var apis []int16
	for _, v := range handler.Versions() {
		apis = append(apis, v.Key)
	}
	m := metrics.New(metrics.Config{SlowFsync: cfg.SlowFsync, APIs: apis, Logger: cfg.Logger})
	cfg.FS, cfg.metrics = m.FS(cfg.FS), m
	bm := &brokerMetrics{m: m}
	if cfg.MetricsListen == "" {
		return bm, nil
	}
	srv, err := m.Listen(cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics listen %s: %w", cfg.MetricsListen, err)
	}
	bm.srv = srv
	cfg.Logger.Info("sluice: metrics endpoint", "listen", srv.Addr())
	return bm, nil
}

// serving adds the collector of the running broker's state and reports
// ready: recovery has finished and Kafka clients are served.
func (bm *brokerMetrics) serving(b *Broker) {
	bm.m.Watch(metrics.Sources{Topics: b.topics, Conns: b.conns, Groups: b.groups, Txns: b.txns})
	bm.m.SetReady(true)
}

// failed closes the endpoint when Start fails.
func (bm *brokerMetrics) failed(err error) {
	if err != nil {
		_ = bm.close()
	}
}

func (bm *brokerMetrics) stopping() { bm.m.SetReady(false) }

func (bm *brokerMetrics) close() error {
	if bm.srv == nil {
		return nil
	}
	return bm.srv.Close()
}

// Metrics is the broker's metrics (tests gather from it).
func (b *Broker) Metrics() *metrics.Metrics { return b.metrics.m }

// MetricsAddr is the address of the metrics endpoint, "" without one.
func (b *Broker) MetricsAddr() string {
	if b.metrics.srv == nil {
		return ""
	}
	return b.metrics.srv.Addr()
}
