package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"sluice/internal/group"
	"sluice/internal/topics"
	"sluice/internal/txn"
)

// Sources are the running broker's parts the state collector reads at
// scrape time. A nil part is skipped.
type Sources struct {
	Topics *topics.Manager
	Conns  func() int // open client connections
	Groups *group.Service
	Txns   *txn.Service
}

// Watch registers the collector of the broker's state, read from src at
// every scrape. Call it once, when the broker serves.
func (m *Metrics) Watch(src Sources) {
	if src.Topics != nil {
		exists := func(name string) bool { return src.Topics.Get(name) != nil }
		m.exists.Store(&exists)
	}
	m.reg.MustRegister(stateCollector{src})
}

var (
	tpLabels = []string{"topic", "partition"}

	descLogSize = prometheus.NewDesc("kafka_log_log_size",
		"Bytes of the partition's log on disk, every segment.", tpLabels, nil)
	descSegments = prometheus.NewDesc("kafka_log_log_numlogsegments",
		"Segments of the partition's log.", tpLabels, nil)
	descLogEnd = prometheus.NewDesc("kafka_log_log_logendoffset",
		"The partition's log end offset: the offset the next appended record gets.", tpLabels, nil)
	descLogStart = prometheus.NewDesc("kafka_log_log_logstartoffset",
		"The partition's log start offset: the first offset a consumer can read.", tpLabels, nil)
	descHW = prometheus.NewDesc("sluice_partition_high_watermark",
		"The partition's high watermark: below it records are durable (under --fsync=always) and readable.", tpLabels, nil)
	descLSO = prometheus.NewDesc("sluice_partition_last_stable_offset",
		"The partition's last stable offset: read_committed consumers read below it; a transaction left open holds it back.", tpLabels, nil)
	descProducers = prometheus.NewDesc("kafka_server_replicamanager_produceridcount",
		"Producer ids whose state the broker keeps, summed over partitions (idempotent and transactional producers seen within producer.id.expiration.ms).", nil, nil)
	descConns = prometheus.NewDesc("kafka_server_socket_server_metrics_connection_count",
		"Open Kafka client connections.", nil, nil)
)

// stateCollector reports what the broker's accessors say at scrape time.
type stateCollector struct{ src Sources }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLogSize, descSegments, descLogEnd, descLogStart, descHW, descLSO, descProducers, descConns,
		descGroups, descMembers, descGroupOffset, descLag, descTxnsOpen} {
		ch <- d
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Topics != nil {
		c.collectPartitions(ch)
	}
	if c.src.Conns != nil {
		ch <- gauge(descConns, float64(c.src.Conns()))
	}
	if c.src.Groups != nil && c.src.Topics != nil {
		collectGroups(ch, c.src.Groups, c.src.Topics)
	}
	if c.src.Txns != nil {
		collectTxns(ch, c.src.Txns)
	}
}

func (c stateCollector) collectPartitions(ch chan<- prometheus.Metric) {
	producers := 0
	for name, t := range c.src.Topics.All() {
		for i, p := range t.Partitions {
			part := strconv.Itoa(i)
			ch <- gauge(descLogSize, float64(p.Size()), name, part)
			ch <- gauge(descSegments, float64(p.Segments()), name, part)
			ch <- gauge(descLogEnd, float64(p.LogEndOffset()), name, part)
			ch <- gauge(descLogStart, float64(p.StartOffset()), name, part)
			ch <- gauge(descHW, float64(p.HighWatermark()), name, part)
			ch <- gauge(descLSO, float64(p.LastStableOffset()), name, part)
			producers += len(p.Producers())
		}
	}
	ch <- gauge(descProducers, float64(producers))
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}
