package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"reflect"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/bufpool"
	"sluice/internal/handler"
	"sluice/internal/tlsconf"
	"sluice/internal/wire"
)

// maxPipelined bounds the requests of one connection that have been handled
// but not yet answered (acks=all waiting for fsync, long polls). The read
// loop stops reading when it is reached, which pushes back on the client.
const maxPipelined = 32

// errAcksZeroFailed is why a connection is closed after a failed acks=0
// produce.
var errAcksZeroFailed = errors.New("acks=0 produce failed; closing so the client notices")

// maxKeptWriteBuffer is the largest response buffer a connection keeps for
// the next response while it has more to answer. Fetch responses of
// several MiB are routine; growing a fresh buffer for each would copy
// every response several times over. A connection with nothing left to
// answer keeps at most maxKeptFrame of it and hands a larger one to the
// pool (bufpool), taking one of the same size back for its next large
// response: an idle connection holds little, whatever it once sent.
const maxKeptWriteBuffer = 64 << 20

// connBufferBytes is the size of a connection's read and write buffers,
// which it holds for its whole life: small, so that ten thousand idle
// connections hold little, and enough to read a request's header and
// small requests, and to gather small responses, in one system call.
// Larger frames and responses bypass them.
const connBufferBytes = 8 << 10

// maxKeptFrame is the largest request buffer a connection keeps for its
// next request; larger frames are read into pooled buffers (bufpool), so
// that an idle connection holds no more than this.
const maxKeptFrame = 1 << 20

// frameBuffer is the buffer for a request frame of n bytes that does not
// fit the connection's own.
func frameBuffer(n int) []byte {
	if n <= maxKeptFrame {
		return make([]byte, n)
	}
	return bufpool.Get(n)
}

// pending is a handled request whose response is yet to be written.
type pending struct {
	correlationID int32
	key           int16
	start         time.Time // when the request was read
	result        handler.Result
	// raw, when rawToken is set, is a SASL token answered in a plain
	// length-prefixed frame (the exchange after a v0 SaslHandshake).
	raw      []byte
	rawToken bool
	// throttle is how long the client is throttled for this request
	// under its quotas, as far as known when it was handled
	// (handler.Throttle); a fetch may add its own in its response.
	throttle time.Duration
}

// conn serves one client connection: a read loop that decodes and handles
// requests one at a time, in order, and a write loop that writes their
// responses in the same order, waiting where a response is not ready yet.
// Appends therefore happen in request order, while fsync waits of
// pipelined requests overlap (and share group commits).
type conn struct {
	srv *Server
	// raw is the accepted connection; nc is what requests are read from
	// and responses written to: raw itself, or the TLS connection over
	// it once the handshake is done. Shutdown uses raw only, since nc
	// changes in serve.
	raw    net.Conn
	nc     net.Conn
	host   string // remote host, reported for group members
	log    *slog.Logger
	out    chan pending
	closed chan struct{}
	// sess is the connection's authentication; set by serve before the
	// loops start, then touched by the read loop only.
	sess *handler.Session
	// unauthenticated: the connection counts against
	// Limits.MaxUnauthenticated until it authenticates (read loop only,
	// then the server once the loops ended).
	unauthenticated bool
	// mutedUntil is when a client throttled under its quotas may be
	// read from again (Unix nanoseconds; 0: never muted). Both loops
	// raise it; the read loop waits for it before it handles a request.
	mutedUntil atomic.Int64
}

func (c *conn) serve(ctx context.Context) {
	defer c.raw.Close()
	l := c.srv.cfg.Listener
	if c.srv.cfg.TLS != nil {
		tc, err := c.handshake(ctx)
		if err != nil {
			c.log.Warn("server: TLS handshake failed; closing connection", "err", err)
			return
		}
		c.nc = tc
		if !l.SASL {
			l.Principal = tlsconf.Principal(tc.ConnectionState())
		}
	}
	c.sess = c.srv.handler.NewSession(l)
	if l.Principal != "" {
		c.log.Debug("server: authenticated", "principal", l.Principal, "by", "client certificate")
	}
	writerDone := make(chan struct{})
	go c.writeLoop(writerDone)
	err := c.readLoop(ctx)
	close(c.out)
	<-writerDone
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.log.Info("server: closing a connection that sent no request for connections.max.idle.ms", "idle", c.srv.cfg.Limits.IdleTimeout.String())
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed):
		c.log.Warn("server: closing connection", "err", err)
	}
}

// handshake runs the TLS handshake, bounded by the server's handshake
// timeout so that a client that never finishes it (or one speaking
// plaintext, which waits for an answer) does not hold the connection.
func (c *conn) handshake(ctx context.Context) (*tls.Conn, error) {
	tc := tls.Server(c.raw, c.srv.cfg.TLS)
	if err := c.raw.SetDeadline(time.Now().Add(c.srv.cfg.HandshakeTimeout)); err != nil {
		return nil, err
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	if err := c.raw.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return tc, nil
}

func (c *conn) readLoop(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic handling request: %v\n%s", r, debug.Stack())
		}
	}()
	br := bufio.NewReaderSize(c.nc, connBufferBytes)
	var buf []byte
	principal := c.sess.Principal()
	for {
		if d := c.srv.cfg.Limits.idle(); !d.IsZero() {
			if err := c.raw.SetReadDeadline(d); err != nil {
				return err
			}
		}
		frame, err := wire.ReadFrameAlloc(br, buf, c.srv.cfg.MaxFrameBytes, frameBuffer)
		if err != nil {
			return err
		}
		if !c.waitUnmuted() {
			return nil // shutting down, or the write loop failed
		}
		var p pending
		if c.sess.WantsRawToken() {
			p, err = c.rawToken(frame)
		} else {
			p, err = c.decodeAndHandle(ctx, frame)
		}
		if err != nil {
			return err
		}
		if p.throttle > 0 {
			c.mute(time.Now().Add(p.throttle))
		}
		if p := c.sess.Principal(); p != principal {
			principal = p
			c.log.Debug("server: authenticated", "principal", p, "by", "SASL")
			if c.unauthenticated {
				c.unauthenticated = false
				c.srv.cfg.Limits.authenticated()
			}
		}
		// Handlers keep no request bytes once they return: the connection
		// keeps a small buffer for its next request and returns a large
		// one to the pool, for whichever connection needs one next.
		if cap(frame) <= maxKeptFrame {
			buf = frame[:0]
		} else {
			bufpool.Put(frame)
		}
		select {
		case c.out <- p:
		case <-c.closed:
			abandon(p.result)
			return nil
		}
		if p.result.CloseAfter != nil {
			return p.result.CloseAfter // the write loop answers it first
		}
	}
}

// saslAuthenticateKey is what a raw token is counted as: the request that
// carries tokens since KIP-152.
const saslAuthenticateKey = 36

// rawToken answers a raw SASL token. A failure closes the connection
// without an answer: the raw exchange has no way to say why.
func (c *conn) rawToken(frame []byte) (pending, error) {
	out, err := c.sess.RawToken(frame)
	if err != nil {
		return pending{}, err
	}
	// The token is answered after the frame buffer is reused: keep a copy.
	return pending{key: saslAuthenticateKey, start: time.Now(), raw: append([]byte(nil), out...), rawToken: true}, nil
}

// decodeAndHandle decodes one request and runs its handler. An error
// closes the connection.
func (c *conn) decodeAndHandle(ctx context.Context, frame []byte) (pending, error) {
	hdr, err := wire.ParseRequestHeader(frame)
	if err != nil {
		return pending{}, err
	}
	p := pending{correlationID: hdr.CorrelationID, key: hdr.Key, start: time.Now()}
	if err := c.sess.Admit(hdr.Key); err != nil {
		return p, err
	}
	if !handler.Supports(hdr.Key, hdr.Version) {
		return c.unsupported(p, hdr)
	}
	req := kmsg.RequestForKey(hdr.Key)
	req.SetVersion(hdr.Version)
	if err := hdr.SkipHeaderTags(req); err != nil {
		return p, err
	}
	if err := req.ReadFrom(hdr.Body); err != nil {
		return p, fmt.Errorf("decode %s v%d: %w", kmsg.NameForKey(hdr.Key), hdr.Version, err)
	}
	if c.log.Enabled(ctx, slog.LevelDebug) {
		c.log.Debug("server: request", "api", kmsg.NameForKey(hdr.Key), "version", hdr.Version, "correlation", hdr.CorrelationID)
	}
	p.result = c.srv.handler.Handle(handler.WithClient(ctx, hdr.ClientID, c.host, c.sess), req)
	if c.srv.handler.Throttling() {
		p.throttle = c.srv.handler.Throttle(c.sess, hdr.ClientID, hdr.Key, len(frame), time.Since(p.start))
	}
	return p, nil
}

// Throttling (KIP-219). A request that puts its client over a quota is
// answered at once with throttle_time_ms, and the connection then reads
// nothing more until that time has passed after the answer was written:
// the read loop mutes itself from when it handled the request, and the
// write loop again from when it wrote the answer. A request read while
// muted is held until the time has passed. To a client of a version
// before KIP-219 (the response says whether the client throttles itself)
// the answer is written only once the time has passed, as Kafka does.

// mute keeps the read loop from handling requests until t.
func (c *conn) mute(t time.Time) {
	n := t.UnixNano()
	for {
		old := c.mutedUntil.Load()
		if old >= n || c.mutedUntil.CompareAndSwap(old, n) {
			return
		}
	}
}

// waitUnmuted waits until the connection is no longer muted; false when
// the connection is closing instead.
func (c *conn) waitUnmuted() bool {
	for {
		until := c.mutedUntil.Load()
		if until == 0 {
			return true
		}
		d := time.Until(time.Unix(0, until))
		if d <= 0 {
			return true
		}
		if !c.sleep(d) {
			return false
		}
	}
}

// sleep waits for d, or until the connection closes or the server shuts
// down, reporting whether d passed.
func (c *conn) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.closed:
	case <-c.srv.quit:
	}
	return false
}

// throttle puts the larger of the request's and the response's throttle
// in the response and returns it, with whether the client throttles
// itself after the response (KIP-219) or the answer must wait.
func throttle(p pending, resp kmsg.Response) (d time.Duration, clientSide bool) {
	d, clientSide = p.throttle, true
	tr, ok := resp.(kmsg.ThrottleResponse)
	if !ok {
		return d, clientSide
	}
	ms, after := tr.Throttle()
	d = max(d, time.Duration(ms)*time.Millisecond)
	if d > 0 {
		resp.(kmsg.SetThrottleResponse).SetThrottle(handler.ThrottleMillis(d))
	}
	return d, after
}

// unsupported answers a request this broker does not implement at that
// version. ApiVersions gets its v0 answer with the supported ranges
// (KIP-511). Other known APIs get their response at the requested version
// with UNSUPPORTED_VERSION in the top-level error code when the response
// has one; anything else closes the connection, which is what a client
// must expect from a broker that cannot parse its request.
func (c *conn) unsupported(p pending, hdr wire.RequestHeader) (pending, error) {
	if hdr.Key == wire.ApiVersionsKey {
		p.result = handler.Result{Resp: handler.UnsupportedApiVersions()}
		return p, nil
	}
	req := kmsg.RequestForKey(hdr.Key)
	if req == nil || hdr.Version < 0 || hdr.Version > req.MaxVersion() {
		return p, fmt.Errorf("unknown api key %d version %d", hdr.Key, hdr.Version)
	}
	resp := req.ResponseKind()
	resp.SetVersion(hdr.Version)
	f := reflect.ValueOf(resp).Elem().FieldByName("ErrorCode")
	if !f.IsValid() || f.Kind() != reflect.Int16 {
		return p, fmt.Errorf("unsupported %s version %d", kmsg.NameForKey(hdr.Key), hdr.Version)
	}
	f.SetInt(int64(kerr.UnsupportedVersion.Code))
	c.log.Info("server: unsupported request version", "api", kmsg.NameForKey(hdr.Key), "version", hdr.Version)
	p.result = handler.Result{Resp: resp}
	return p, nil
}

func (c *conn) writeLoop(done chan<- struct{}) {
	defer close(done)
	// Responses are gathered in buf while more are queued, and written
	// with one system call when the queue is empty or buf is large: no
	// buffered writer of its own, so an idle connection holds nothing
	// for writing.
	var buf []byte
	pooled := 0 // the capacity of the last large buffer handed to the pool
	failed := false
	flush := func() {
		if len(buf) == 0 || failed {
			return
		}
		if _, err := c.nc.Write(buf); err != nil {
			failed = c.writeFailed(err)
		}
		buf = buf[:0]
	}
	for p := range c.out {
		if failed {
			abandon(p.result) // drain so the read loop never blocks
			continue
		}
		resp, err := c.await(p.result)
		if err != nil {
			failed = c.writeFailed(err)
			continue
		}
		c.answered(p)
		var throttled time.Duration // muted from when the response is written
		delayed := false
		if p.throttle > 0 || (resp != nil && c.srv.handler.Throttling()) {
			d, clientSide := throttle(p, resp)
			if o := c.srv.cfg.Requests; o != nil && d > 0 {
				o.Throttled(p.key, d)
			}
			if delayed = d > 0 && !clientSide; delayed {
				// Before KIP-219: muted while the response waits, not after.
				c.mute(time.Now().Add(d))
				flush()
				if !c.sleep(d) {
					failed = c.writeFailed(errors.New("closed while delaying a throttled response"))
					continue
				}
			} else {
				throttled = d
			}
		}
		if p.result.CloseConn {
			flush()
			if !failed {
				failed = c.writeFailed(errAcksZeroFailed)
			}
			continue
		}
		if !p.result.NoResponse && (resp != nil || p.rawToken) {
			if buf == nil && pooled > 0 {
				buf = bufpool.Get(pooled)[:0]
			}
			if p.rawToken {
				buf = binary.BigEndian.AppendUint32(buf, uint32(len(p.raw)))
				buf = append(buf, p.raw...)
			} else {
				buf = wire.AppendResponse(buf, p.correlationID, resp)
			}
			if p.result.Release != nil {
				p.result.Release(resp)
			}
		}
		idle := len(c.out) == 0
		if idle || len(buf) >= maxKeptFrame || throttled > 0 || delayed {
			flush()
		}
		if throttled > 0 {
			c.mute(time.Now().Add(throttled))
		}
		switch {
		case len(buf) > 0: // gathered, not yet written: keep it
		case cap(buf) > maxKeptWriteBuffer:
			buf = nil
		case idle && cap(buf) > maxKeptFrame:
			pooled = cap(buf)
			bufpool.Put(buf)
			buf = nil
		}
	}
	flush()
}

// answered tells the request observer, if any, that p's response is ready.
func (c *conn) answered(p pending) {
	if o := c.srv.cfg.Requests; o != nil {
		o.Request(p.key, time.Since(p.start))
	}
}

// abandon tells a result whose Wait will not run (handler.Result.Abandon).
func abandon(r handler.Result) {
	if r.Abandon != nil {
		r.Abandon()
	}
}

// await returns the response of a result, running its Wait if it has
// one; a panic there is contained like one in the read loop.
func (c *conn) await(r handler.Result) (resp kmsg.Response, err error) {
	if r.Wait == nil {
		return r.Resp, nil
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic completing request: %v\n%s", v, debug.Stack())
		}
	}()
	return r.Wait(), nil
}

// writeFailed closes the connection so the read loop stops too.
func (c *conn) writeFailed(err error) bool {
	c.log.Warn("server: closing connection", "err", err)
	close(c.closed)
	c.raw.Close() // not a TLS close_notify: the peer may not be reading
	return true
}
