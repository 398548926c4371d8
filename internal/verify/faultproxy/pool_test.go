package faultproxy_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/verify/faultproxy"
)

// A broker that advertises its own address still has every request of a
// client pass the pool: the produce after the first Metadata, and the
// group's requests after FindCoordinator. A drop set on the pool drops.
func TestPoolKeepsClientsOnTheProxies(t *testing.T) {
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) {
		c.GroupInitialRebalanceDelay = -1 // the group forms at once
	})) // advertises itself
	pool, err := faultproxy.NewPool([]string{b.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pool.Close(); err != nil {
			t.Errorf("pool: %v", err)
		}
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(pool.Seeds()...), kgo.DefaultProduceTopic("pooled"),
		kgo.ConsumerGroup("pooled-g"), kgo.ConsumeTopics("pooled"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	if _, err := kadm.NewClient(cl).CreateTopic(ctx(t), 1, 1, nil, "pooled"); err != nil {
		t.Fatal(err)
	}
	pool.DropResponses(faultproxy.NthRequest(faultproxy.ProduceKey, 1))
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-pool.Drops():
	default:
		t.Fatalf("no produce response dropped; requests through the pool: %v", pool.Counts())
	}
	if fs := cl.PollFetches(ctx(t)); fs.NumRecords() == 0 {
		t.Fatalf("polled nothing: %v", fs.Errors())
	}
	const joinGroup = 11
	if n := pool.Counts()[joinGroup]; n == 0 {
		t.Fatalf("the group's JoinGroup bypassed the pool: %v", pool.Counts())
	}
}
