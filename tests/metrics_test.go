package tests

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/recordbatch"
)

// scrape GETs /metrics from a broker's metrics endpoint and parses it with
// Prometheus's text-format parser, failing on anything it refuses.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape: the endpoint does not parse as the Prometheus text format: %v", err)
	}
	return fams
}

// metricValue is the value of the series of family name whose labels
// include every pair of labels (a counter, gauge, or a histogram's count);
// it fails when there is no such series or more than one.
func metricValue(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	var found []*dto.Metric
	for _, m := range fams[name].GetMetric() {
		if hasLabels(m, labels) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: %d series, want 1", name, labels, len(found))
	}
	m := found[0]
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	t.Fatalf("%s%v: no value", name, labels)
	return 0
}

func hasLabels(m *dto.Metric, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		ok := false
		for _, l := range m.GetLabel() {
			ok = ok || (l.GetName() == kv[i] && l.GetValue() == kv[i+1])
		}
		if !ok {
			return false
		}
	}
	return true
}

func httpStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func startWithMetrics(t *testing.T) *brokertest.Broker {
	t.Helper()
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) { c.MetricsListen = "127.0.0.1:0" }))
	if b.MetricsAddr() == "" {
		t.Fatal("no metrics endpoint")
	}
	return b
}

// A known workload, then one scrape: the counters it determines are exact,
// and the byte counters agree with each other and with the log on disk.
func TestMetricsAfterKnownWorkload(t *testing.T) {
	b := startWithMetrics(t)
	addr, maddr := b.Addr(), b.MetricsAddr()
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := httpStatus(t, "http://"+maddr+path); code != http.StatusOK {
			t.Fatalf("%s: %d %q", path, code, body)
		}
	}
	createTopic(t, newAdmin(t, addr), "metered", 2, nil)

	// Ten records, each its own acknowledged Produce request.
	const n = 10
	cl := newClient(t, addr, kgo.DefaultProduceTopic("metered"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx := testCtx(t, 30*time.Second)
	for i := range n {
		r := &kgo.Record{Value: val(i), Partition: int32(i % 2)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	consumeN(t, addr, "metered", n)

	m := scrape(t, maddr)
	if got := metricValue(t, m, "kafka_network_requestmetrics_requests_total", "request", "Produce"); got != n {
		t.Errorf("Produce requests = %v, want %d", got, n)
	}
	if got := metricValue(t, m, "kafka_network_requestmetrics_totaltime_seconds", "request", "Produce"); got != n {
		t.Errorf("Produce latencies observed = %v, want %d", got, n)
	}
	if got := metricValue(t, m, "kafka_network_requestmetrics_requests_total", "request", "CreateTopics"); got != 1 {
		t.Errorf("CreateTopics requests = %v, want 1", got)
	}
	if got := metricValue(t, m, "kafka_server_brokertopicmetrics_messagesin_total", "topic", "metered"); got != n {
		t.Errorf("messages in = %v, want %d", got, n)
	}
	in := metricValue(t, m, "kafka_server_brokertopicmetrics_bytesin_total", "topic", "metered")
	out := metricValue(t, m, "kafka_server_brokertopicmetrics_bytesout_total", "topic", "metered")
	size := metricValue(t, m, "kafka_log_log_size", "topic", "metered", "partition", "0") +
		metricValue(t, m, "kafka_log_log_size", "topic", "metered", "partition", "1")
	// The bytes are stored as sent and one consumer read each once.
	if in == 0 || in != size || out != in {
		t.Errorf("bytes in %v, bytes out %v, log size %v: want all equal and > 0", in, out, size)
	}
	for _, part := range []string{"0", "1"} {
		if got := metricValue(t, m, "kafka_log_log_logendoffset", "topic", "metered", "partition", part); got != n/2 {
			t.Errorf("partition %s log end offset = %v, want %d", part, got, n/2)
		}
		if got := metricValue(t, m, "kafka_log_log_numlogsegments", "topic", "metered", "partition", part); got != 1 {
			t.Errorf("partition %s segments = %v, want 1", part, got)
		}
	}
	// Under --fsync=always every acknowledged produce waited for a sync.
	if got := metricValue(t, m, "sluice_fsync_duration_seconds"); got < n {
		t.Errorf("fsyncs observed = %v, want at least %d", got, n)
	}
	if got := metricValue(t, m, "kafka_server_socket_server_metrics_connection_count"); got < 1 {
		t.Errorf("connections = %v, want at least 1 (the producer's)", got)
	}
	// franz-go's producer is idempotent by default: one producer id, in
	// both partitions.
	if got := metricValue(t, m, "kafka_server_replicamanager_produceridcount"); got != 2 {
		t.Errorf("producer ids kept = %v, want 2 (one producer, two partitions)", got)
	}
	// A deleted topic's series go with it, its counters included.
	if _, err := newAdmin(t, addr).DeleteTopic(testCtx(t, 10*time.Second), "metered"); err != nil {
		t.Fatal(err)
	}
	after := scrape(t, maddr)
	for _, name := range []string{"kafka_server_brokertopicmetrics_messagesin_total", "kafka_server_brokertopicmetrics_bytesin_total",
		"kafka_server_brokertopicmetrics_bytesout_total", "kafka_log_log_size"} {
		for _, series := range after[name].GetMetric() {
			if hasLabels(series, []string{"topic", "metered"}) {
				t.Errorf("%s still has a series for the deleted topic", name)
			}
		}
	}
}

// A retried idempotent batch is answered with its offsets and not appended
// again; the metrics count it as a duplicate and not as bytes in.
func TestMetricsCountDuplicateBatches(t *testing.T) {
	b := startWithMetrics(t)
	addr := b.Addr()
	createTopic(t, newAdmin(t, addr), "dups", 1, nil)
	init := kmsg.NewPtrInitProducerIDRequest()
	init.Version = 4
	ir := roundTrip(t, addr, init).(*kmsg.InitProducerIDResponse)
	if ir.ErrorCode != 0 {
		t.Fatalf("init producer id: code %d", ir.ErrorCode)
	}
	batch := recordbatch.Build(nil, []recordbatch.Record{{Value: []byte("once")}}, time.Now().UnixMilli(), 0)
	binary.BigEndian.PutUint64(batch[43:], uint64(ir.ProducerID))
	binary.BigEndian.PutUint16(batch[51:], uint16(ir.ProducerEpoch))
	binary.BigEndian.PutUint32(batch[53:], 0)
	binary.BigEndian.PutUint32(batch[17:], recordbatch.Batch(batch).ComputeCRC())
	for i := range 3 {
		p := produceRaw(t, addr, 9, nil, "dups", 0, append([]byte(nil), batch...))
		if p.ErrorCode != 0 || p.BaseOffset != 0 {
			t.Fatalf("send %d: code %d, offset %d; want 0 at offset 0", i, p.ErrorCode, p.BaseOffset)
		}
	}
	m := scrape(t, b.MetricsAddr())
	if got := metricValue(t, m, "sluice_producer_duplicate_batches_total"); got != 2 {
		t.Errorf("duplicate batches = %v, want 2", got)
	}
	if got := metricValue(t, m, "kafka_server_brokertopicmetrics_messagesin_total", "topic", "dups"); got != 1 {
		t.Errorf("messages in = %v, want 1", got)
	}
	if got := metricValue(t, m, "kafka_server_brokertopicmetrics_bytesin_total", "topic", "dups"); got != float64(len(batch)) {
		t.Errorf("bytes in = %v, want %d (one batch)", got, len(batch))
	}
}

// /readyz is 503 once shutdown has begun; /healthz answers until the
// endpoint closes.
func TestMetricsReadyzAfterClose(t *testing.T) {
	b := startWithMetrics(t)
	maddr := b.MetricsAddr()
	if code, _ := httpStatus(t, "http://"+maddr+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz while serving: %d", code)
	}
	b.Metrics().SetReady(false) // what Close does first
	if code, _ := httpStatus(t, "http://"+maddr+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz while shutting down: %d, want 503", code)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + maddr + "/healthz"); err == nil {
		t.Fatal("the metrics endpoint still answers after Close")
	}
}

// eventually scrapes until cond holds of a scrape, or fails after 15s.
func eventually(t *testing.T, maddr, what string, cond func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		m := scrape(t, maddr)
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15s: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A consumer group's members, committed offsets and lag, and
// transactions committed, aborted, timed out and still open.
func TestMetricsGroupsLagAndTransactions(t *testing.T) {
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) {
		c.MetricsListen, c.GroupInitialRebalanceDelay = "127.0.0.1:0", -1
	}))
	addr, maddr := b.Addr(), b.MetricsAddr()
	createTopic(t, newAdmin(t, addr), "lagged", 1, nil)
	prod := newClient(t, addr, kgo.DefaultProduceTopic("lagged"))
	ctx := testCtx(t, 60*time.Second)
	produce := func(n int) {
		for i := range n {
			if err := prod.ProduceSync(ctx, &kgo.Record{Value: val(i)}).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
		}
	}
	produce(5)
	cons := newClient(t, addr, kgo.ConsumerGroup("g1"), kgo.ConsumeTopics("lagged"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for got := 0; got < 5; {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of 5", got)
		}
		got += len(fs.Records())
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	produce(3) // acknowledged after the fsync: the high watermark is 8

	// Transactions: one committed, one aborted by the producer, one left
	// to time out, and one still open.
	txnProducer := func(id string, timeout time.Duration) *kgo.Client {
		cl := newClient(t, addr, kgo.DefaultProduceTopic("lagged"), kgo.TransactionalID(id), kgo.TransactionTimeout(timeout))
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(id)}).FirstErr(); err != nil {
			t.Fatalf("%s: produce: %v", id, err)
		}
		return cl
	}
	for id, end := range map[string]kgo.TransactionEndTry{"commits": kgo.TryCommit, "aborts": kgo.TryAbort} {
		if err := txnProducer(id, time.Minute).EndTransaction(ctx, end); err != nil {
			t.Fatalf("%s: end: %v", id, err)
		}
	}
	txnProducer("times-out", time.Second)
	txnProducer("stays-open", time.Minute)

	m := eventually(t, maddr, "one transaction timed out", func(m map[string]*dto.MetricFamily) bool {
		return metricValue(t, m, "sluice_transactions_timed_out_total") == 1 &&
			metricValue(t, m, "sluice_transactions_total", "result", "aborted") == 2
	})
	if got := metricValue(t, m, "sluice_transactions_total", "result", "committed"); got != 1 {
		t.Errorf("committed transactions = %v, want 1", got)
	}
	if got := metricValue(t, m, "sluice_transactions_open"); got != 1 {
		t.Errorf("open transactions = %v, want 1", got)
	}
	if got := metricValue(t, m, "kafka_coordinator_group_groupmetadatamanager_numgroups"); got != 1 {
		t.Errorf("groups = %v, want 1", got)
	}
	if got := metricValue(t, m, "kafka_consumergroup_members", "consumergroup", "g1"); got != 1 {
		t.Errorf("members of g1 = %v, want 1", got)
	}
	if got := metricValue(t, m, "kafka_consumergroup_current_offset", "consumergroup", "g1", "topic", "lagged", "partition", "0"); got != 5 {
		t.Errorf("g1's committed offset = %v, want 5", got)
	}
	// High watermark 8 before the transactions; their records and markers
	// add to it, so the lag is the high watermark minus 5.
	hw := metricValue(t, m, "sluice_partition_high_watermark", "topic", "lagged", "partition", "0")
	if got := metricValue(t, m, "kafka_consumergroup_lag", "consumergroup", "g1", "topic", "lagged", "partition", "0"); got != hw-5 || got < 3 {
		t.Errorf("g1's lag = %v, want the high watermark %v minus 5", got, hw)
	}
	// The open transaction holds the last stable offset at its first record.
	described, err := newAdmin(t, addr).DescribeProducers(ctx, kadm.TopicsSet{"lagged": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	open := int64(-1)
	described.EachProducer(func(p kadm.DescribedProducer) {
		if p.CurrentTxnStartOffset >= 0 {
			open = p.CurrentTxnStartOffset
		}
	})
	if got := metricValue(t, m, "sluice_partition_last_stable_offset", "topic", "lagged", "partition", "0"); open < 8 || got != float64(open) || got >= hw {
		t.Errorf("last stable offset = %v, want the open transaction's first offset %d, below the high watermark %v", got, open, hw)
	}
	// This workload leaves a series in every family the dashboard uses.
	checkDashboard(t, m)
}

// checkDashboard fails when the Grafana dashboard queries a metric the
// broker did not serve in scrape, or one docs/operations.md does not list.
func checkDashboard(t *testing.T, scrape map[string]*dto.MetricFamily) {
	t.Helper()
	dash, err := os.ReadFile("../docs/grafana/sluice.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct{ Targets []struct{ Expr string } }
	}
	if err := json.Unmarshal(dash, &d); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	ops, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`\b(kafka|sluice)_[a-z_]+\b`)
	used := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, n := range names.FindAllString(tg.Expr, -1) {
				used++
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if base, ok := strings.CutSuffix(n, suffix); ok && scrape[base] != nil {
						n = base
					}
				}
				if scrape[n] == nil {
					t.Errorf("the dashboard queries %s, which the broker does not serve", n)
				}
				if !strings.Contains(string(ops), "`"+n+"`") {
					t.Errorf("the dashboard queries %s, which docs/operations.md does not list", n)
				}
			}
		}
	}
	if used == 0 {
		t.Error("the dashboard queries no Sluice metric")
	}
}

// `sluice serve --metrics-listen` serves the endpoint, ready once serving.
func TestServeMetricsListenFlag(t *testing.T) {
	p := brokertest.StartProcess(t, t.TempDir(), "--metrics-listen", "127.0.0.1:0")
	match := regexp.MustCompile(`sluice: metrics endpoint"? listen=(\S+)`).FindStringSubmatch(p.Log.String())
	if match == nil {
		t.Fatalf("no metrics endpoint logged:\n%s", p.Log.String())
	}
	if code, body := httpStatus(t, "http://"+match[1]+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz: %d %q", code, body)
	}
	if _, ok := scrape(t, match[1])["kafka_network_requestmetrics_requests_total"]; !ok {
		t.Fatal("no request metrics served")
	}
}
