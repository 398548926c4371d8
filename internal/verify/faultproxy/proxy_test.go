package faultproxy_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/verify/faultproxy"
)

// proxied starts a proxy and a real broker that advertises it, and
// returns a producer whose every request goes through the proxy.
func proxied(t *testing.T, opts ...kgo.Opt) (*faultproxy.Proxy, *kgo.Client, string) {
	t.Helper()
	px, err := faultproxy.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := px.Close(); err != nil {
			t.Errorf("proxy: %v", err)
		}
	})
	b := brokertest.Start(t, func(c *broker.Config) { c.Advertise = px.Addr() })
	px.SetTarget(b.Addr())
	cl := brokertest.Client(t, px.Addr(), append([]kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}, opts...)...)
	topic := "proxied"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx(t), 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	return px, cl, topic
}

func ctx(t *testing.T) context.Context { return brokertest.Context(t, 30*time.Second) }

// A dropped response is one the broker gave: the batch it answers is
// stored, the client retries on a new connection, and the idempotent
// producer's retry is recognised, so the topic holds the record once.
func TestDropKeepsWhatTheBrokerStored(t *testing.T) {
	px, cl, topic := proxied(t)
	px.DropResponses(faultproxy.NthRequest(faultproxy.ProduceKey, 1))
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: topic, Value: []byte("v0")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	drops := px.Dropped()
	if len(drops) != 1 || drops[0].Req.N != 1 || drops[0].Behind != 0 {
		t.Fatalf("drops %+v, want the first produce's response, nothing behind it", drops)
	}
	bs, err := faultproxy.StoredProduce(drops[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].Topic != topic || len(bs[0].Values) != 1 || string(bs[0].Values[0]) != "v0" {
		t.Fatalf("stored batches %+v", bs)
	}
	if n := px.Count(faultproxy.ProduceKey); n != 2 {
		t.Fatalf("%d produce requests passed, want 2 (the first and its retry)", n)
	}
	offsets, err := kadm.NewClient(cl).ListEndOffsets(ctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := offsets.Lookup(topic, 0); o.Offset != 1 {
		t.Fatalf("end offset %d, want 1: the retry was stored again", o.Offset)
	}
}

// A delayed response reaches the client no sooner than the delay.
func TestDelayHoldsTheResponse(t *testing.T) {
	px, cl, topic := proxied(t)
	const delay = 300 * time.Millisecond
	px.DelayResponses(func(r faultproxy.Request) time.Duration {
		if r.APIKey == faultproxy.ProduceKey {
			return delay
		}
		return 0
	})
	start := time.Now()
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: topic, Value: []byte("slow")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < delay {
		t.Fatalf("the produce was answered after %v, before the %v delay", took, delay)
	}
	if len(px.Dropped()) != 0 {
		t.Fatal("a delay dropped a response")
	}
}

// CutAll closes the open connections; the client reconnects through the
// proxy and carries on.
func TestCutAllClientsReconnect(t *testing.T) {
	px, cl, topic := proxied(t)
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: topic, Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if n := px.CutAll(); n == 0 {
		t.Fatal("no connection to cut")
	}
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: topic, Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if n := px.Count(faultproxy.ProduceKey); n < 2 {
		t.Fatalf("%d produce requests passed, want the one after the cut too", n)
	}
}
