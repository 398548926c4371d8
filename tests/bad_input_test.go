package tests

import (
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/brokertest"
	"sluice/internal/recordbatch"
)

// rawConn is a bare TCP connection speaking frames by hand.
type rawConn struct {
	t  *testing.T
	nc net.Conn
}

func dialRaw(t *testing.T, addr string) *rawConn {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t, nc}
}

// request frames a request by hand (requestFrame) and sends it.
func (c *rawConn) request(req kmsg.Request, corr int32) {
	c.write(requestFrame(req, corr))
}

// rawFrame is req framed by hand with its length, as sent.
func rawFrame(req kmsg.Request, corr int32) []byte {
	body := requestFrame(req, corr)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// requestFrame is a request framed by hand, without its length: header
// v1 (or v2 when flexible), no client id.
func requestFrame(req kmsg.Request, corr int32) []byte {
	var body []byte
	body = kbin.AppendInt16(body, req.Key())
	body = kbin.AppendInt16(body, req.GetVersion())
	body = kbin.AppendInt32(body, corr)
	body = kbin.AppendNullableString(body, nil)
	if req.IsFlexible() {
		body = append(body, 0)
	}
	return req.AppendTo(body)
}

func (c *rawConn) write(body []byte) {
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	if _, err := c.nc.Write(append(frame, body...)); err != nil {
		c.t.Fatal(err)
	}
}

// response reads one response frame and returns its body after the
// correlation id (and the flexible header's tag byte if tagged).
func (c *rawConn) response(wantCorr int32, tagged bool) []byte {
	var l [4]byte
	if _, err := io.ReadFull(c.nc, l[:]); err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(l[:]))
	if _, err := io.ReadFull(c.nc, body); err != nil {
		c.t.Fatal(err)
	}
	if corr := int32(binary.BigEndian.Uint32(body)); corr != wantCorr {
		c.t.Fatalf("correlation id %d, want %d", corr, wantCorr)
	}
	body = body[4:]
	if tagged {
		body = body[1:]
	}
	return body
}

// expectClosed asserts the broker closed the connection.
func (c *rawConn) expectClosed() {
	var b [1]byte
	if _, err := c.nc.Read(b[:]); err == nil {
		c.t.Fatal("connection still open, want it closed")
	}
}

// The broker serves everyone else after each bad connection.
func TestBadFramesCloseOnlyTheirConnection(t *testing.T) {
	b := brokertest.Start(t)
	cases := map[string][]byte{
		"oversized": binary.BigEndian.AppendUint32(nil, 200<<20),
		"negative":  binary.BigEndian.AppendUint32(nil, 0xFFFFFFFF),
		"garbled":   append(binary.BigEndian.AppendUint32(nil, 12), []byte("\x00\x03\x00\x05garbage!")...),
		"unknown key": func() []byte {
			body := kbin.AppendInt16(nil, 999)
			body = kbin.AppendInt16(body, 0)
			body = kbin.AppendInt32(body, 1)
			body = kbin.AppendNullableString(body, nil)
			return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
		}(),
		"truncated body": func() []byte { // a Metadata v1 request whose topic array runs off the end
			body := kbin.AppendInt16(nil, 3)
			body = kbin.AppendInt16(body, 1)
			body = kbin.AppendInt32(body, 1)
			body = kbin.AppendNullableString(body, nil)
			body = kbin.AppendInt32(body, 5)
			return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
		}(),
	}
	for name, frame := range cases {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, b.Addr())
			if _, err := c.nc.Write(frame); err != nil {
				t.Fatal(err)
			}
			c.expectClosed()
			// Everyone else is still served.
			good := dialRaw(t, b.Addr())
			good.request(kmsg.NewPtrApiVersionsRequest(), 7)
			resp := kmsg.NewPtrApiVersionsResponse()
			if err := resp.ReadFrom(good.response(7, false)); err != nil || resp.ErrorCode != 0 {
				t.Fatalf("after %s: %v %d", name, err, resp.ErrorCode)
			}
		})
	}
	if !strings.Contains(b.Log.String(), "closing connection") {
		t.Fatalf("no log line for the closed connections:\n%s", b.Log.String())
	}
}

// An ApiVersions request at a version the broker does not speak is
// answered at v0 with UNSUPPORTED_VERSION and the supported ranges
// (KIP-511); ApiVersions v3 checks the client software name.
func TestApiVersionsNegotiation(t *testing.T) {
	b := brokertest.Start(t)
	c := dialRaw(t, b.Addr())
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 42
	var body []byte
	body = kbin.AppendInt16(body, 18)
	body = kbin.AppendInt16(body, 42)
	body = kbin.AppendInt32(body, 3)
	body = kbin.AppendNullableString(body, nil)
	c.write(append(body, 0, 0, 0)) // some future body
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(c.response(3, false)); err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.UnsupportedVersion.Code || len(resp.ApiKeys) == 0 {
		t.Fatalf("got error %d with %d keys", resp.ErrorCode, len(resp.ApiKeys))
	}
	want := map[int16][2]int16{0: {3, 12}, 1: {4, 16}, 3: {0, 12}, 18: {0, 4}, 26: {0, 5}}
	for _, k := range resp.ApiKeys {
		if w, ok := want[k.ApiKey]; ok && (k.MinVersion != w[0] || k.MaxVersion != w[1]) {
			t.Errorf("key %d: %d-%d, want %d-%d", k.ApiKey, k.MinVersion, k.MaxVersion, w[0], w[1])
		}
	}

	bad := kmsg.NewPtrApiVersionsRequest()
	bad.Version = 3
	bad.ClientSoftwareName, bad.ClientSoftwareVersion = "bad name!", "1.0"
	c.request(bad, 4)
	r3 := kmsg.NewPtrApiVersionsResponse()
	r3.Version = 3
	if err := r3.ReadFrom(c.response(4, false)); err != nil || r3.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("bad software name: %v %d, want INVALID_REQUEST", err, r3.ErrorCode)
	}

	// A known API at a version not offered gets UNSUPPORTED_VERSION where
	// the response has a top-level error code.
	dc := kmsg.NewPtrDescribeClusterRequest()
	dc.Version = 2
	c.request(dc, 5)
	r5 := kmsg.NewPtrDescribeClusterResponse()
	r5.Version = 2
	if err := r5.ReadFrom(c.response(5, true)); err != nil || r5.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("DescribeCluster v2: %v %d", err, r5.ErrorCode)
	}
}

// A batch with a bad CRC gets CORRUPT_MESSAGE for its partition only; the
// other partition of the same request is stored, and nothing of the bad
// batch is written.
func TestCorruptBatchRejectedPerPartition(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	topic := topicName(t, "crc")
	createTopic(t, adm, topic, 2, nil)
	good := encodeBatch(t, "good")
	corrupt := encodeBatch(t, "bad")
	corrupt[len(corrupt)-1] ^= 0x01 // the CRC covers the records

	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 7, -1, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	for p, recs := range [][]byte{good, corrupt} {
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = int32(p), recs
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	cl := newClient(t, b.Addr())
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	ps := resp.Topics[0].Partitions
	if ps[0].ErrorCode != 0 || ps[0].BaseOffset != 0 {
		t.Fatalf("good partition: error %d offset %d", ps[0].ErrorCode, ps[0].BaseOffset)
	}
	if ps[1].ErrorCode != kerr.CorruptMessage.Code {
		t.Fatalf("corrupt partition: error %d, want CORRUPT_MESSAGE", ps[1].ErrorCode)
	}
	ends, _ := adm.ListEndOffsets(testCtx(t, 10*time.Second), topic)
	if o, _ := ends.Lookup(topic, 1); o.Offset != 0 {
		t.Fatalf("corrupt partition end offset %d, want 0", o.Offset)
	}
	if o, _ := ends.Lookup(topic, 0); o.Offset != 1 {
		t.Fatalf("good partition end offset %d, want 1", o.Offset)
	}

	// Bad acks get INVALID_REQUIRED_ACKS (sent by hand: franz-go would
	// put its own acks setting in).
	req.Acks, req.Version = 2, 7 // franz-go raised the version for its send
	c := dialRaw(t, b.Addr())
	c.request(req, 9)
	resp = kmsg.NewPtrProduceResponse()
	resp.Version = req.Version
	if err := resp.ReadFrom(c.response(9, false)); err != nil {
		t.Fatal(err)
	}
	for _, p := range resp.Topics[0].Partitions {
		if p.ErrorCode != kerr.InvalidRequiredAcks.Code {
			t.Fatalf("acks=2: partition %d error %d, want INVALID_REQUIRED_ACKS", p.Partition, p.ErrorCode)
		}
	}
}

// encodeBatch builds a one-record batch v2 with a correct CRC.
func encodeBatch(t *testing.T, value string) []byte {
	t.Helper()
	return recordbatch.Build(nil, []recordbatch.Record{{Value: []byte(value)}}, time.Now().UnixMilli(), 0)
}

// An acks=0 produce that fails has no response to carry the error, so the
// broker closes the connection, as Kafka does; a good one keeps it open.
func TestAcksZeroFailureClosesConnection(t *testing.T) {
	b := brokertest.Start(t)
	topic := topicName(t, "acks0")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
	send := func(c *rawConn, records []byte) {
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis = 7, 0, 1000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = records
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		c.request(req, 1)
	}
	c := dialRaw(t, b.Addr())
	send(c, encodeBatch(t, "fine"))
	c.request(kmsg.NewPtrApiVersionsRequest(), 2) // still open: this is answered
	resp := kmsg.NewPtrApiVersionsResponse()
	if err := resp.ReadFrom(c.response(2, false)); err != nil {
		t.Fatal(err)
	}
	bad := encodeBatch(t, "bad")
	bad[len(bad)-1] ^= 1
	send(c, bad)
	c.expectClosed()
}

// ApiVersions v3+ carries the finalized transaction.version feature at 2:
// what makes clients use transactions v2 (KIP-890 part 2).
func TestApiVersionsAdvertisesTransactionsV2(t *testing.T) {
	b := brokertest.Start(t)
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "sluice-test", "1.0"
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), newClient(t, b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range resp.FinalizedFeatures {
		if f.Name == "transaction.version" && f.MaxVersionLevel == 2 {
			found = true
		}
	}
	if !found || resp.FinalizedFeaturesEpoch < 0 {
		t.Fatalf("finalized features %+v (epoch %d), want transaction.version 2", resp.FinalizedFeatures, resp.FinalizedFeaturesEpoch)
	}
}
