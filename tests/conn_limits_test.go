package tests

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
)

// apiVersions sends one ApiVersions v0 and waits for its answer: the
// connection was admitted and is served.
func (c *rawConn) apiVersions(corr int32) {
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0
	c.request(req, corr)
	c.response(corr, false)
}

// admitted dials until the broker admits and answers a connection again:
// a closed connection is uncounted once the broker's side of it has
// ended, which the client cannot see.
func admitted(t *testing.T, addr string) *rawConn {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dialRaw(t, addr)
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = 0
		c.request(req, 1)
		var l [4]byte
		if _, err := io.ReadFull(c.nc, l[:]); err == nil {
			if _, err := io.ReadFull(c.nc, make([]byte, binary.BigEndian.Uint32(l[:]))); err == nil {
				return c
			}
		}
		c.nc.Close()
		if time.Now().After(deadline) {
			t.Fatal("no connection admitted after one was closed")
		}
	}
}

// closedByBroker asserts the broker closed the connection: the read ends
// with EOF or a reset, not with the read deadline.
func (c *rawConn) closedByBroker() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	_, err := c.nc.Read(b[:])
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		c.t.Fatalf("connection still open (%v), want it closed by the broker", err)
	}
}

// max.connections.per.ip and max.connections: a connection over either
// limit is closed as soon as it is accepted, with a log line naming the
// limit; the others are served, and one closing makes room again.
func TestConnectionLimits(t *testing.T) {
	for _, tc := range []struct {
		limit string
		set   func(*broker.Config)
	}{
		{"max.connections.per.ip", func(c *broker.Config) { c.MaxConnectionsPerIP = 2 }},
		{"max.connections", func(c *broker.Config) { c.MaxConnections = 2 }},
	} {
		t.Run(tc.limit, func(t *testing.T) {
			b := brokertest.Start(t, brokertest.WithConfig(tc.set))
			first, second := dialRaw(t, b.Addr()), dialRaw(t, b.Addr())
			first.apiVersions(1)
			second.apiVersions(1)
			third := dialRaw(t, b.Addr())
			third.closedByBroker()
			if !strings.Contains(b.Log.String(), "refusing a connection over "+tc.limit) {
				t.Fatalf("no log line names %s:\n%s", tc.limit, b.Log.String())
			}
			first.apiVersions(2) // the admitted ones are still served
			second.nc.Close()
			admitted(t, b.Addr()).apiVersions(2)
		})
	}
}

// connections.max.idle.ms: a connection that sends no request for that
// long is closed and logged; one that keeps sending is not. A client
// under the limits works as usual.
func TestIdleConnectionsAreClosed(t *testing.T) {
	const idle = 300 * time.Millisecond
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) {
		c.ConnectionsMaxIdle, c.MaxConnectionsPerIP = idle, 20
	}))
	quiet, busy := dialRaw(t, b.Addr()), dialRaw(t, b.Addr())
	quiet.apiVersions(1)
	start := time.Now()
	for i := range int32(6) { // requests 100 ms apart: 600 ms in all, never idle for 300
		busy.apiVersions(i)
		time.Sleep(idle / 3)
	}
	quiet.closedByBroker()
	if waited := time.Since(start); waited < idle {
		t.Fatalf("closed after %v, before the idle timeout %v", waited, idle)
	}
	busy.apiVersions(7)
	if !strings.Contains(b.Log.String(), "closing a connection that sent no request for connections.max.idle.ms") {
		t.Fatalf("no log line for the idle connection:\n%s", b.Log.String())
	}
	topic := topicName(t, "limits")
	createTopic(t, newAdmin(t, b.Addr()), topic, 1, nil)
	produceValues(t, b.Addr(), topic, 0, 5)
	if got := len(consumeN(t, b.Addr(), topic, 5, kgo.FetchIsolationLevel(kgo.ReadCommitted()))); got != 5 {
		t.Fatalf("consumed %d records, want 5", got)
	}
}

// max.connections.unauthenticated: a burst of connections that never
// authenticate on a SASL listener takes at most that many; the next one
// is closed when accepted, a client already authenticated goes on being
// served, and a connection that authenticates frees its place.
func TestUnauthenticatedConnectionsAreBounded(t *testing.T) {
	b := saslBroker(t, brokertest.WithConfig(func(c *broker.Config) { c.MaxUnauthenticatedConnections = 2 }))
	topic := topicName(t, "unauth")
	authed := newClient(t, b.Addr(), plainAuth(plainUser, plainPass), kgo.DefaultProduceTopic(topic))
	createTopic(t, kadm.NewClient(authed), topic, 1, nil)
	produce := func(v int) {
		t.Helper()
		if err := authed.ProduceSync(testCtx(t, 20*time.Second), &kgo.Record{Value: val(v)}).FirstErr(); err != nil {
			t.Fatalf("authenticated produce %d: %v", v, err)
		}
	}
	produce(0)
	burst := []*rawConn{dialRaw(t, b.Addr()), dialRaw(t, b.Addr())}
	for _, c := range burst {
		c.apiVersions(1) // admitted, and never authenticating
	}
	over := dialRaw(t, b.Addr())
	over.closedByBroker()
	if !strings.Contains(b.Log.String(), "refusing a connection over max.connections.unauthenticated") {
		t.Fatalf("no log line names the limit:\n%s", b.Log.String())
	}
	produce(1) // the authenticated client's connections are not affected
	burst[0].nc.Close()
	// A new client can authenticate once a place is free, and frees it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dialRaw(t, b.Addr())
		r := saslRawTry(c, 1, plainUser, plainPass)
		if r != nil && r.ErrorCode == 0 {
			break
		}
		c.nc.Close()
		if time.Now().After(deadline) {
			t.Fatal("no connection could authenticate after a place was freed")
		}
	}
	last := dialRaw(t, b.Addr())
	last.apiVersions(1) // the authenticated one freed its place
	produce(2)
	// The reader's own connections need places while they authenticate.
	burst[1].nc.Close()
	last.nc.Close()
	if got := len(consumeN(t, b.Addr(), topic, 3, plainAuth(plainUser, plainPass))); got != 3 {
		t.Fatalf("consumed %d records, want 3", got)
	}
}

// saslRawTry authenticates c with PLAIN, or returns nil when the broker
// closed the connection instead of answering.
func saslRawTry(c *rawConn, corr int32, user, pass string) *kmsg.SASLAuthenticateResponse {
	read := func() []byte {
		var l [4]byte
		if _, err := io.ReadFull(c.nc, l[:]); err != nil {
			return nil
		}
		body := make([]byte, binary.BigEndian.Uint32(l[:]))
		if _, err := io.ReadFull(c.nc, body); err != nil || len(body) < 4 {
			return nil
		}
		return body[4:] // after the correlation id
	}
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "PLAIN"
	c.request(hs, corr)
	hsr := kmsg.NewPtrSASLHandshakeResponse()
	hsr.Version = 1
	if body := read(); body == nil || hsr.ReadFrom(body) != nil || hsr.ErrorCode != 0 {
		return nil
	}
	au := kmsg.NewPtrSASLAuthenticateRequest()
	au.Version, au.SASLAuthBytes = 1, []byte("\x00"+user+"\x00"+pass)
	c.request(au, corr+1)
	aur := kmsg.NewPtrSASLAuthenticateResponse()
	aur.Version = 1
	if body := read(); body == nil || aur.ReadFrom(body) != nil {
		return nil
	}
	return aur
}
