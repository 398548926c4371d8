package metrics

import "github.com/prometheus/client_golang/prometheus"

var (
	descBytesIn = prometheus.NewDesc("kafka_server_brokertopicmetrics_bytesin_total",
		"Record bytes appended to the topic by producers (Kafka's BytesInPerSec).", []string{"topic"}, nil)
	descBytesOut = prometheus.NewDesc("kafka_server_brokertopicmetrics_bytesout_total",
		"Record bytes returned to fetchers from the topic (Kafka's BytesOutPerSec).", []string{"topic"}, nil)
	descMessagesIn = prometheus.NewDesc("kafka_server_brokertopicmetrics_messagesin_total",
		"Records appended to the topic by producers (Kafka's MessagesInPerSec).", []string{"topic"}, nil)
)

// topicCollector reports the per-topic counters the produce and fetch
// paths bump with atomics.
type topicCollector struct{ m *Metrics }

func (c topicCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descBytesIn
	ch <- descBytesOut
	ch <- descMessagesIn
}

func (c topicCollector) Collect(ch chan<- prometheus.Metric) {
	exists := c.m.exists.Load()
	c.m.topics.Range(func(k, v any) bool {
		name, t := k.(string), v.(*topicCounters)
		if exists != nil && !(*exists)(name) {
			c.m.topics.Delete(name) // deleted: a topic made again under its name counts from 0
			return true
		}
		ch <- prometheus.MustNewConstMetric(descBytesIn, prometheus.CounterValue, float64(t.bytesIn.Load()), name)
		ch <- prometheus.MustNewConstMetric(descBytesOut, prometheus.CounterValue, float64(t.bytesOut.Load()), name)
		ch <- prometheus.MustNewConstMetric(descMessagesIn, prometheus.CounterValue, float64(t.messagesIn.Load()), name)
		return true
	})
}
