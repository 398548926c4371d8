package faultproxy

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// conn is one client connection and its connection to the broker.
type conn struct {
	p              *Proxy
	client, broker net.Conn
	once           sync.Once

	mu      sync.Mutex
	pending []pendingReq  // forwarded, response not yet seen, in order
	closing bool          // a response was dropped: forward nothing more
	sent    chan struct{} // ticks when a request is forwarded
}

type pendingReq struct {
	r     Request
	frame []byte // kept only for requests whose response will be dropped
	drop  bool
	delay time.Duration
}

func (c *conn) close() {
	c.once.Do(func() {
		c.client.Close()
		c.broker.Close()
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
	})
}

// maxFrame bounds what the proxy buffers: Kafka's largest frames are far
// below it, and a garbled length must not allocate gigabytes.
const maxFrame = 256 << 20

// readFrame reads one length-prefixed Kafka frame (request or response).
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 4 || n > maxFrame {
		return nil, fmt.Errorf("faultproxy: bad frame size %d", n)
	}
	buf := make([]byte, n)
	_, err := io.ReadFull(r, buf)
	return buf, err
}

func writeFrame(w io.Writer, frame []byte) error {
	buf := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(frame)), uint32(len(frame)))
	_, err := w.Write(append(buf, frame...))
	return err
}

// requests copies client -> broker, numbering requests and applying the
// rules.
func (c *conn) requests() {
	defer c.close()
	for {
		frame, err := readFrame(c.client)
		if err != nil || len(frame) < 8 {
			return
		}
		r := Request{
			APIKey:        int16(binary.BigEndian.Uint16(frame[0:])),
			Version:       int16(binary.BigEndian.Uint16(frame[2:])),
			CorrelationID: int32(binary.BigEndian.Uint32(frame[4:])),
		}
		p := c.p
		if r.APIKey == ProduceKey && !produceWantsResponse(frame) {
			// acks=0: the broker answers nothing, so there is nothing to
			// drop or delay and no entry to queue (the next response
			// answers the request after this one).
			p.count(r.APIKey)
			if err := writeFrame(c.broker, frame); err != nil {
				return
			}
			continue
		}
		p.mu.Lock()
		r.N = p.countLocked(r.APIKey)
		pr := pendingReq{r: r, drop: p.rule != nil && p.rule(r)}
		if p.delay != nil {
			pr.delay = p.delay(r)
		}
		p.mu.Unlock()
		if pr.drop {
			pr.frame = frame
		}
		// Queue before forwarding: the response cannot overtake the entry.
		c.mu.Lock()
		if c.closing { // swallowed too; the drop closes the connection soon
			c.mu.Unlock()
			continue
		}
		c.pending = append(c.pending, pr)
		c.mu.Unlock()
		if err := writeFrame(c.broker, frame); err != nil {
			return
		}
		select {
		case c.sent <- struct{}{}:
		default:
		}
	}
}

// responses copies broker -> client; a response to be dropped is
// swallowed and the connection closed, a delayed one is held.
func (c *conn) responses() {
	defer c.close()
	for {
		frame, err := readFrame(c.broker)
		if err != nil {
			return
		}
		corr := int32(binary.BigEndian.Uint32(frame[0:]))
		c.mu.Lock()
		if len(c.pending) == 0 || c.pending[0].r.CorrelationID != corr {
			c.mu.Unlock()
			c.p.surprise("faultproxy: response with correlation id %d does not answer the oldest request", corr)
			return
		}
		req := c.pending[0]
		c.pending = c.pending[1:]
		c.mu.Unlock()
		if frame, err = c.rewrite(req.r, frame); err != nil {
			c.p.surprise("%v", err)
			return
		}
		if req.drop {
			c.drop(req, frame)
			return // closed by drop
		}
		if req.delay > 0 {
			time.Sleep(req.delay) // holds this connection's later responses too, as a slow link does
		}
		if err := writeFrame(c.client, frame); err != nil {
			return
		}
	}
}

// rewrite maps the broker addresses in a response when the proxy is in a
// Pool.
func (c *conn) rewrite(req Request, frame []byte) ([]byte, error) {
	c.p.mu.Lock()
	m := c.p.rewrite
	c.p.mu.Unlock()
	if m == nil {
		return frame, nil
	}
	return rewriteAddrs(req, frame, m)
}

// drop swallows frame, the response to req, waits for the configured
// number of requests behind it, runs the OnDrop hook and closes.
func (c *conn) drop(req pendingReq, frame []byte) {
	p := c.p
	p.mu.Lock()
	hold, onDrop := p.hold, p.onDrop
	p.mu.Unlock()
	behind := func(stop bool) int {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.closing = c.closing || stop
		n := 0
		for _, q := range c.pending {
			if q.r.APIKey == req.r.APIKey {
				n++
			}
		}
		return n
	}
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
wait:
	for behind(false) < hold {
		select {
		case <-c.sent:
		case <-deadline.C:
			break wait
		}
	}
	// Stop forwarding requests, then count what is lost behind us.
	d := Drop{Req: req.r, Request: req.frame, Response: frame, Behind: behind(true)}
	p.mu.Lock()
	p.dropped = append(p.dropped, d)
	p.mu.Unlock()
	if onDrop != nil {
		onDrop(d) // the client still waits on its open connection
	}
	c.close()
	select {
	case p.drops <- d:
	default:
	}
}
