package faultproxy_test

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

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

// An acks=0 produce gets no response; the proxy must not wait for one,
// or the next response on the connection would seem to answer it. A raw
// client sends one, then a Metadata request on the same connection, as
// clients that share a connection do.
func TestAcksZeroProduceHasNoResponse(t *testing.T) {
	px, _, topic := proxied(t)
	px.DropResponses(faultproxy.NthRequest(faultproxy.ProduceKey, 1))
	conn, err := net.Dial("tcp", px.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))

	produce := kmsg.NewPtrProduceRequest()
	produce.Version, produce.Acks, produce.TimeoutMillis = 7, 0, 5000
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = topic
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = oneRecordBatch([]byte("fire-and-forget"))
	pt.Partitions = append(pt.Partitions, pp)
	produce.Topics = append(produce.Topics, pt)
	writeRequest(t, conn, 1, produce)

	meta := kmsg.NewPtrMetadataRequest()
	meta.Version = 7
	writeRequest(t, conn, 2, meta)
	frame := readResponse(t, conn)
	if corr := int32(binary.BigEndian.Uint32(frame)); corr != 2 {
		t.Fatalf("first response has correlation id %d, want 2 (the metadata request's)", corr)
	}
	if n := len(px.Dropped()); n != 0 {
		t.Fatalf("%d responses dropped; an acks=0 produce has none to drop", n)
	}
}

func writeRequest(t *testing.T, conn net.Conn, corr int32, req kmsg.Request) {
	t.Helper()
	buf := []byte{0, 0, 0, 0}
	buf = binary.BigEndian.AppendUint16(buf, uint16(req.Key()))
	buf = binary.BigEndian.AppendUint16(buf, uint16(req.GetVersion()))
	buf = binary.BigEndian.AppendUint32(buf, uint32(corr))
	buf = binary.BigEndian.AppendUint16(buf, 0xffff) // null client id
	buf = req.AppendTo(buf)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	if _, err := conn.Write(buf); err != nil {
		t.Fatal(err)
	}
}

func readResponse(t *testing.T, conn net.Conn) []byte {
	t.Helper()
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	frame := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(conn, frame); err != nil {
		t.Fatal(err)
	}
	return frame
}

// oneRecordBatch encodes an uncompressed record batch v2 holding value.
func oneRecordBatch(value []byte) []byte {
	rec := kmsg.Record{Value: value}
	rec.Length = int32(len(rec.AppendTo(nil)) - 1) // AppendTo opens with the length, a one-byte 0 so far
	raw := rec.AppendTo(nil)
	b := kmsg.RecordBatch{Magic: 2, LastOffsetDelta: 0, FirstTimestamp: time.Now().UnixMilli(),
		MaxTimestamp: time.Now().UnixMilli(), ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: 1, Records: raw}
	out := b.AppendTo(nil)
	b.Length = int32(len(out) - 12)
	out = b.AppendTo(nil)
	b.CRC = int32(crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b.AppendTo(nil)
}
