package tests

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
)

func sp(s string) *string { return &s }

func TestTopicLifecycle(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	ctx := testCtx(t, 30*time.Second)
	topic := topicName(t, "life")

	// validate_only creates nothing.
	cl := newClient(t, b.Addr())
	req := kmsg.NewPtrCreateTopicsRequest()
	req.ValidateOnly = true
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, 3, 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("validate only: %v %v", err, resp)
	}
	// A separate client: franz-go caches metadata answers, unknown topics included.
	if td, _ := newAdmin(t, b.Addr()).ListTopics(ctx, topic); td.Has(topic) && td[topic].Err == nil {
		t.Fatal("validate_only created the topic")
	}

	createTopic(t, adm, topic, 3, map[string]*string{"retention.ms": sp("3600000")})
	if r, _ := adm.CreateTopic(ctx, 3, 1, nil, topic); !errors.Is(r.Err, kerr.TopicAlreadyExists) {
		t.Fatalf("second create: %v, want TOPIC_ALREADY_EXISTS", r.Err)
	}
	for _, c := range []struct {
		name    string
		parts   int32
		rf      int16
		configs map[string]*string
		want    error
	}{
		{"bad/name", 1, 1, nil, kerr.InvalidTopicException},
		{topic + "-rf", 1, 3, nil, kerr.InvalidReplicationFactor},
		{topic + "-p", 0, 1, nil, kerr.InvalidPartitions},
		{topic + "-cfg", 1, 1, map[string]*string{"no.such.config": sp("1")}, kerr.InvalidConfig},
		{topic + "-val", 1, 1, map[string]*string{"retention.ms": sp("soon")}, kerr.InvalidConfig},
	} {
		r, _ := adm.CreateTopic(ctx, c.parts, c.rf, c.configs, c.name)
		if !errors.Is(r.Err, c.want) {
			t.Errorf("create %s: %v, want %v", c.name, r.Err, c.want)
		}
	}

	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	td := md.Topics[topic]
	if td.Err != nil || len(td.Partitions) != 3 || td.ID == (kadm.TopicID{}) {
		t.Fatalf("metadata: %+v", td)
	}

	if _, err := adm.UpdatePartitions(ctx, 5, topic); err != nil {
		t.Fatal(err)
	}
	if r, _ := adm.UpdatePartitions(ctx, 2, topic); !errors.Is(r[topic].Err, kerr.InvalidPartitions) {
		t.Fatalf("shrinking partitions: %v, want INVALID_PARTITIONS", r[topic].Err)
	}
	md, _ = adm.Metadata(ctx, topic)
	if n := len(md.Topics[topic].Partitions); n != 5 {
		t.Fatalf("after CreatePartitions: %d partitions, want 5", n)
	}

	dr, err := adm.DeleteTopics(ctx, topic)
	if err != nil || dr[topic].Err != nil {
		t.Fatalf("delete: %v %v", err, dr[topic].Err)
	}
	dr, _ = adm.DeleteTopics(ctx, topic)
	if !errors.Is(dr[topic].Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("second delete: %v", dr[topic].Err)
	}
	// The name is free again, with fresh, empty partitions.
	createTopic(t, adm, topic, 1, nil)
	ends, _ := adm.ListEndOffsets(ctx, topic)
	if o, _ := ends.Lookup(topic, 0); o.Offset != 0 {
		t.Fatalf("recreated topic ends at %d", o.Offset)
	}
}

func TestTopicConfigs(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	ctx := testCtx(t, 30*time.Second)
	topic := topicName(t, "cfg")
	createTopic(t, adm, topic, 1, map[string]*string{"max.message.bytes": sp("2000")})

	rc, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := rc.On(topic, nil)
	values := map[string]kadm.Config{}
	for _, c := range cfg.Configs {
		values[c.Key] = c
	}
	if c := values["max.message.bytes"]; c.MaybeValue() != "2000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("max.message.bytes = %q from %v", c.MaybeValue(), c.Source)
	}
	if c := values["retention.ms"]; c.MaybeValue() != "604800000" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("retention.ms = %q from %v", c.MaybeValue(), c.Source)
	}

	// max.message.bytes is enforced: a larger batch gets MESSAGE_TOO_LARGE.
	prod := newClient(t, b.Addr(), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic), kgo.RecordRetries(0))
	big := make([]byte, 3000)
	rand.Read(big) // incompressible: the limit applies to the batch as sent
	err = prod.ProduceSync(ctx, &kgo.Record{Value: big}).FirstErr()
	if !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("oversized record: %v, want MESSAGE_TOO_LARGE", err)
	}

	ar, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "max.message.bytes", Value: sp("100000")},
		{Op: kadm.SetConfig, Name: "message.timestamp.type", Value: sp("LogAppendTime")},
	}, topic)
	if err != nil || ar[0].Err != nil {
		t.Fatalf("alter: %v %v", err, ar)
	}
	before := time.Now().Add(-time.Second).UnixMilli()
	if err := prod.ProduceSync(ctx, &kgo.Record{Value: make([]byte, 3000), Timestamp: time.Unix(1, 0)}).FirstErr(); err != nil {
		t.Fatalf("after raising max.message.bytes: %v", err)
	}
	recs := consumeN(t, b.Addr(), topic, 1)
	if ts := recs[0].Timestamp.UnixMilli(); ts < before {
		t.Fatalf("LogAppendTime topic kept the producer's timestamp %d", ts)
	}

	ar, _ = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "segment.bytes", Value: sp("tiny")}}, topic)
	if !errors.Is(ar[0].Err, kerr.InvalidConfig) {
		t.Fatalf("bad value: %v, want INVALID_CONFIG", ar[0].Err)
	}
	ar, _ = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "max.message.bytes"}}, topic)
	if ar[0].Err != nil {
		t.Fatal(ar[0].Err)
	}
	rc, _ = adm.DescribeTopicConfigs(ctx, topic)
	cfg, _ = rc.On(topic, nil)
	for _, c := range cfg.Configs {
		if c.Key == "max.message.bytes" && (c.MaybeValue() != "1048588" || c.Source != kmsg.ConfigSourceDefaultConfig) {
			t.Fatalf("after delete: %q from %v", c.MaybeValue(), c.Source)
		}
	}
}

func TestListOffsets(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	ctx := testCtx(t, 30*time.Second)
	topic := topicName(t, "lo")
	createTopic(t, adm, topic, 1, nil)
	prod := newClient(t, b.Addr(), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic))
	// Timestamps 1000, 2000, ... 10000 except offset 7, which carries the maximum.
	for i := 0; i < 10; i++ {
		ts := int64(1000 * (i + 1))
		if i == 7 {
			ts = 50000
		}
		if err := prod.ProduceSync(ctx, &kgo.Record{Value: val(i), Timestamp: time.UnixMilli(ts)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, lo kadm.ListedOffsets, err error, offset, ts int64) {
		t.Helper()
		o, ok := lo.Lookup(topic, 0)
		if err != nil || !ok || o.Err != nil || o.Offset != offset || (ts != 0 && o.Timestamp != ts) {
			t.Errorf("%s: got %+v %v, want offset %d timestamp %d", what, o, err, offset, ts)
		}
	}
	lo, err := adm.ListStartOffsets(ctx, topic)
	check("earliest", lo, err, 0, 0)
	lo, err = adm.ListEndOffsets(ctx, topic)
	check("latest", lo, err, 10, 0)
	lo, err = adm.ListOffsetsAfterMilli(ctx, 2500, topic)
	check("by timestamp", lo, err, 2, 3000)
	lo, err = adm.ListMaxTimestampOffsets(ctx, topic)
	check("max timestamp", lo, err, 7, 50000)
	lo, err = adm.ListOffsetsAfterMilli(ctx, 60000, topic)
	check("after every record", lo, err, 10, 0) // kadm maps "none" to the end offset
}

func TestDescribeClusterAndLogDirs(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	ctx := testCtx(t, 30*time.Second)
	topic := topicName(t, "dirs")
	createTopic(t, adm, topic, 2, nil)
	prod := newClient(t, b.Addr(), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic))
	if err := prod.ProduceSync(ctx, &kgo.Record{Value: []byte("x"), Partition: 0}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	md, err := adm.BrokerMetadata(ctx)
	if err != nil || len(md.Brokers) != 1 || md.Cluster == "" || md.Controller != 0 {
		t.Fatalf("cluster: %+v %v", md, err)
	}
	dirs, err := adm.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	dirs.Each(func(d kadm.DescribedLogDir) {
		d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
			if p.Topic == topic {
				size += p.Size
			}
		})
	})
	if size <= 0 {
		t.Fatalf("log dirs report %d bytes for %s", size, topic)
	}
}

// Segments roll by size and retention.bytes deletes the oldest ones,
// moving the log start offset; fetching below it is out of range.
func TestRetentionBySize(t *testing.T) {
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) { c.RetentionCheckInterval = 20 * time.Millisecond }))
	adm := newAdmin(t, b.Addr())
	topic := topicName(t, "ret")
	createTopic(t, adm, topic, 1, map[string]*string{"segment.bytes": sp("1024"), "retention.bytes": sp("4096")})
	prod := newClient(t, b.Addr(), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(kgo.NoCompression()))
	for i := 0; i < 100; i++ { // one ~300-byte batch each: about 3 per segment
		if err := prod.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Value: make([]byte, 200)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	p := b.Topics().Partition(topic, 0)
	deadline := time.Now().Add(20 * time.Second)
	// Retention runs on its own ticker; wait for its effect. It stops
	// deleting once removing the oldest segment would go below the limit.
	for p.Size() > 4096+1024 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if size := p.Size(); size > 4096+1024 {
		t.Fatalf("log holds %d bytes, retention.bytes is 4096", size)
	}
	start := p.StartOffset()
	if start == 0 {
		t.Fatal("retention.bytes deleted nothing")
	}
	lo, err := adm.ListStartOffsets(testCtx(t, 10*time.Second), topic)
	if o, _ := lo.Lookup(topic, 0); err != nil || o.Offset != start {
		t.Fatalf("ListOffsets earliest %d %v, want %d", o.Offset, err, start)
	}
	recs := consumeN(t, b.Addr(), topic, int(100-start))
	if recs[0].Offset != start {
		t.Fatalf("consumer from the start began at %d, want %d", recs[0].Offset, start)
	}
}

// AlterConfigs (the non-incremental form kafkajs and older sarama send)
// replaces a topic's whole config set.
func TestAlterConfigsReplacesTheSet(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	ctx := testCtx(t, 30*time.Second)
	topic := topicName(t, "alter")
	createTopic(t, adm, topic, 1, map[string]*string{"retention.ms": sp("1000"), "max.message.bytes": sp("5000")})
	resp, err := adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "segment.bytes", Value: sp("2048")}}, topic)
	if err != nil || resp[0].Err != nil {
		t.Fatalf("alter: %v %v", err, resp)
	}
	rc, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := rc.On(topic, nil)
	got := map[string]string{}
	for _, c := range cfg.Configs {
		if c.Source == kmsg.ConfigSourceDynamicTopicConfig {
			got[c.Key] = c.MaybeValue()
		}
	}
	if len(got) != 1 || got["segment.bytes"] != "2048" {
		t.Fatalf("topic configs after AlterConfigs: %v, want only segment.bytes=2048", got)
	}
	resp, _ = adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "no.such.key", Value: sp("1")}}, topic)
	if !errors.Is(resp[0].Err, kerr.InvalidConfig) {
		t.Fatalf("unknown key: %v, want INVALID_CONFIG", resp[0].Err)
	}
}
