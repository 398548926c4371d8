package tests

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
)

// metadataFor asks Metadata at version v for one topic, allowing auto
// creation (a field from v4; earlier versions always allow it).
func metadataFor(t *testing.T, addr string, v int16, topic string, allow bool) kmsg.MetadataResponseTopic {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.Version, req.AllowAutoTopicCreation = v, allow
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp := roundTrip(t, addr, req).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 1 {
		t.Fatalf("metadata v%d: %d topics", v, len(resp.Topics))
	}
	return resp.Topics[0]
}

// With auto-creation on, the Metadata request that creates a topic is
// answered as Kafka answers it: LEADER_NOT_AVAILABLE and no partitions;
// the next one finds the topic. A request that does not allow creation
// gets UNKNOWN_TOPIC_OR_PARTITION and creates nothing; versions before 4,
// which cannot say, allow it. A client producing to a new topic carries
// on through the first answer, and a deleted topic that an auto-creating
// Metadata names is created again with the same first answer (what
// tools that check a deletion with such a request rely on).
func TestAutoCreateTopics(t *testing.T) {
	b := brokertest.Start(t, func(c *broker.Config) { c.AutoCreateTopics = true })
	topic := topicName(t, "auto")
	first := metadataFor(t, b.Addr(), 12, topic, true)
	if first.ErrorCode != kerr.LeaderNotAvailable.Code || len(first.Partitions) != 0 {
		t.Fatalf("creating request: code %d, %d partitions; want %d and none", first.ErrorCode, len(first.Partitions), kerr.LeaderNotAvailable.Code)
	}
	if again := metadataFor(t, b.Addr(), 12, topic, true); again.ErrorCode != 0 || len(again.Partitions) != 1 || again.TopicID != first.TopicID {
		t.Fatalf("next request: code %d, %d partitions, id %x (created as %x)", again.ErrorCode, len(again.Partitions), again.TopicID, first.TopicID)
	}

	refused := topicName(t, "notallowed")
	for range 2 {
		if got := metadataFor(t, b.Addr(), 12, refused, false); got.ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("not allowing creation: code %d, want %d", got.ErrorCode, kerr.UnknownTopicOrPartition.Code)
		}
	}
	old := topicName(t, "v3")
	if got := metadataFor(t, b.Addr(), 3, old, false); got.ErrorCode != kerr.LeaderNotAvailable.Code {
		t.Fatalf("v3 request: code %d, want %d (creation is implied before v4)", got.ErrorCode, kerr.LeaderNotAvailable.Code)
	}

	produced := topicName(t, "produced")
	cl := newClient(t, b.Addr(), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic(produced))
	if err := cl.ProduceSync(testCtx(t, 30*time.Second), &kgo.Record{Value: val(7)}).FirstErr(); err != nil {
		t.Fatalf("produce to a new topic: %v", err)
	}
	if recs := consumeN(t, b.Addr(), produced, 1); string(recs[0].Value) != "7" {
		t.Fatalf("read back %q", recs[0].Value)
	}

	if _, err := newAdmin(t, b.Addr()).DeleteTopics(testCtx(t, 10*time.Second), topic); err != nil {
		t.Fatal(err)
	}
	if got := metadataFor(t, b.Addr(), 6, topic, true); got.ErrorCode != kerr.LeaderNotAvailable.Code || len(got.Partitions) != 0 {
		t.Fatalf("after delete: code %d, %d partitions; want %d and none", got.ErrorCode, len(got.Partitions), kerr.LeaderNotAvailable.Code)
	}
}

// num.partitions and the broker-wide topic config defaults: a topic
// created without a count, by a Metadata request or by CreateTopics with
// -1, gets the broker's partition count; a topic that does not set a
// config the broker has a default for reports the broker's value as
// STATIC_BROKER_CONFIG, the others as DEFAULT_CONFIG; the broker resource
// reports num.partitions.
func TestBrokerTopicDefaults(t *testing.T) {
	b := brokertest.Start(t, func(c *broker.Config) {
		c.AutoCreateTopics, c.DefaultPartitions = true, 3
		c.TopicDefaults = map[string]string{"retention.ms": "3600000"}
	})
	auto := topicName(t, "auto")
	metadataFor(t, b.Addr(), 12, auto, true)
	if got := metadataFor(t, b.Addr(), 12, auto, true); got.ErrorCode != 0 || len(got.Partitions) != 3 {
		t.Fatalf("auto-created topic: code %d, %d partitions; want 3", got.ErrorCode, len(got.Partitions))
	}

	adm := newAdmin(t, b.Addr())
	ctx := testCtx(t, 10*time.Second)
	created := topicName(t, "created")
	resp, err := adm.CreateTopic(ctx, -1, -1, nil, created)
	if err != nil || resp.Err != nil || resp.NumPartitions != 3 {
		t.Fatalf("create with -1 partitions: %v %v, %d partitions in the answer; want 3", err, resp.Err, resp.NumPartitions)
	}
	if got := metadataFor(t, b.Addr(), 12, created, false); len(got.Partitions) != 3 {
		t.Fatalf("created topic has %d partitions, want 3", len(got.Partitions))
	}

	rcs, err := adm.DescribeTopicConfigs(ctx, created)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(created, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"retention.ms": "3600000 STATIC_BROKER_CONFIG", "retention.bytes": "-1 DEFAULT_CONFIG"}
	for _, c := range rc.Configs {
		if w, ok := want[c.Key]; ok {
			if got := c.MaybeValue() + " " + c.Source.String(); got != w {
				t.Errorf("%s: %s, want %s", c.Key, got, w)
			}
			delete(want, c.Key)
		}
	}
	if len(want) > 0 {
		t.Errorf("not described: %v", want)
	}

	brs, err := adm.DescribeBrokerConfigs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	br, err := brs.On("0", nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range br.Configs {
		if c.Key == "num.partitions" {
			found = true
			if c.MaybeValue() != "3" {
				t.Errorf("broker num.partitions = %s, want 3", c.MaybeValue())
			}
		}
	}
	if !found {
		t.Error("broker configs lack num.partitions")
	}
}
