package tests

// A fault-injecting TCP proxy for the idempotence tests: it sits between the
// clients and the broker, reads Kafka frames in both directions and, when a
// rule says so, swallows the broker's response to a request and then closes
// the client's connection. The broker has already handled the request (the
// proxy waits for its response), so the client sees exactly the "ack lost"
// case of shared/seeds: the data is stored, the producer never hears of it,
// and it retries on a new connection.
//
// Clients reach the proxy only if the broker advertises the proxy's address
// in Metadata, so a test starts the proxy first (newFaultProxy), starts the
// broker with Advertise set to proxy.Addr(), then calls SetTarget with the
// broker's real address.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka API keys the tests name.
const (
	apiProduce        int16 = 0
	apiInitProducerID int16 = 22
)

// reqHeader is the part of a request header the proxy reads: the first
// eight bytes after the length prefix are the same in every header version.
type reqHeader struct {
	APIKey        int16
	Version       int16
	CorrelationID int32
	N             int // 1-based: this is the proxy's Nth request with APIKey
}

// dropRule decides, as a request passes, whether its response is dropped.
// Rules are called one at a time, in the order requests arrive.
type dropRule func(h reqHeader) bool

// nthRequest drops the response to the proxy's nth request of api (counted
// over all connections, retries included), once.
func nthRequest(api int16, n int) dropRule {
	return func(h reqHeader) bool { return h.APIKey == api && h.N == n }
}

// droppedResponse records one swallowed response and what was lost with it.
type droppedResponse struct {
	Req      reqHeader
	Request  []byte // the request frame without its length prefix
	Response []byte // the swallowed response frame without its length prefix
	// Behind counts the requests of the same API key sent on the connection
	// after this one and still unanswered when the proxy closed it: their
	// responses were lost as well.
	Behind int
}

type faultProxy struct {
	t  testing.TB
	ln net.Listener

	mu      sync.Mutex
	target  string // the broker; "" makes the proxy refuse (close) new connections
	rule    dropRule
	hold    int                   // see HoldUntilBehind
	onDrop  func(droppedResponse) // see OnDrop
	counts  map[int16]int         // requests seen per API key
	conns   map[*proxyConn]bool
	dropped []droppedResponse
	drops   chan droppedResponse // every drop is also sent here (buffered)
	errs    []string             // protocol surprises, reported at cleanup
}

// newFaultProxy listens on 127.0.0.1:0 and forwards nowhere until SetTarget.
func newFaultProxy(t testing.TB) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, ln: ln, counts: map[int16]int{}, conns: map[*proxyConn]bool{}, drops: make(chan droppedResponse, 64)}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the address clients (and the broker's Advertise) must use.
func (p *faultProxy) Addr() string { return p.ln.Addr().String() }

// SetTarget points new connections at addr ("" refuses them). Existing
// connections keep their broker.
func (p *faultProxy) SetTarget(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = addr
}

// DropResponses installs rule (nil: drop nothing).
func (p *faultProxy) DropResponses(rule dropRule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rule = rule
}

// HoldUntilBehind makes the proxy, once it has a response to drop, wait
// until at least n more requests of the same API key were sent on that
// connection (or 10s pass) before it closes it, so the drop lands in the
// middle of several in-flight requests.
func (p *faultProxy) HoldUntilBehind(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = n
}

// OnDrop runs fn after a response is swallowed and before the client's
// connection is closed: the client cannot retry until fn returns.
func (p *faultProxy) OnDrop(fn func(droppedResponse)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onDrop = fn
}

// Dropped returns every response swallowed so far.
func (p *faultProxy) Dropped() []droppedResponse {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]droppedResponse(nil), p.dropped...)
}

// Count is how many requests of api passed the proxy.
func (p *faultProxy) Count(api int16) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[api]
}

// waitDrop waits for the next dropped response.
func (p *faultProxy) waitDrop(d time.Duration) droppedResponse {
	p.t.Helper()
	select {
	case dr := <-p.drops:
		return dr
	case <-time.After(d):
		p.t.Fatalf("the proxy dropped no response within %v (requests seen: %v)", d, p.countsCopy())
		return droppedResponse{}
	}
}

func (p *faultProxy) countsCopy() map[int16]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[int16]int{}
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

func (p *faultProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	conns, errs := p.conns, p.errs
	p.conns = map[*proxyConn]bool{}
	p.mu.Unlock()
	for c := range conns {
		c.close()
	}
	for _, e := range errs {
		p.t.Errorf("proxy: %s", e)
	}
}

func (p *faultProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // listener closed
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		if target == "" {
			client.Close()
			continue
		}
		broker, err := net.DialTimeout("tcp", target, 5*time.Second)
		if err != nil { // the broker is down: the client sees a closed connection
			client.Close()
			continue
		}
		c := &proxyConn{p: p, client: client, broker: broker, sent: make(chan struct{}, 1)}
		p.mu.Lock()
		p.conns[c] = true
		p.mu.Unlock()
		go c.requests()
		go c.responses()
	}
}

// proxyConn is one client connection and its connection to the broker.
type proxyConn struct {
	p              *faultProxy
	client, broker net.Conn
	once           sync.Once

	mu      sync.Mutex
	pending []pendingReq  // forwarded, response not yet seen, in order
	closing bool          // a response was dropped: forward nothing more
	sent    chan struct{} // ticks when a request is forwarded
}

type pendingReq struct {
	h     reqHeader
	frame []byte // kept only for requests whose response will be dropped
	drop  bool
}

func (c *proxyConn) close() {
	c.once.Do(func() {
		c.client.Close()
		c.broker.Close()
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
	})
}

// readFrame reads one length-prefixed Kafka frame.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 4 || n > 256<<20 {
		return nil, fmt.Errorf("bad frame size %d", n)
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
// drop rule.
func (c *proxyConn) requests() {
	defer c.close()
	for {
		frame, err := readFrame(c.client)
		if err != nil || len(frame) < 8 {
			return
		}
		h := reqHeader{
			APIKey:        int16(binary.BigEndian.Uint16(frame[0:])),
			Version:       int16(binary.BigEndian.Uint16(frame[2:])),
			CorrelationID: int32(binary.BigEndian.Uint32(frame[4:])),
		}
		p := c.p
		p.mu.Lock()
		p.counts[h.APIKey]++
		h.N = p.counts[h.APIKey]
		drop := p.rule != nil && p.rule(h)
		p.mu.Unlock()
		pr := pendingReq{h: h, drop: drop}
		if drop {
			pr.frame = frame
		}
		// Queue before forwarding: the response cannot overtake the entry.
		c.mu.Lock()
		if c.closing { // swallowed too; drop closes the connection soon
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

// responses copies broker -> client; a response to be dropped is swallowed
// and the connection closed. Kafka answers the requests of a connection in
// order, so each response belongs to the oldest pending request.
func (c *proxyConn) responses() {
	defer c.close()
	for {
		frame, err := readFrame(c.broker)
		if err != nil {
			return
		}
		corr := int32(binary.BigEndian.Uint32(frame[0:]))
		c.mu.Lock()
		if len(c.pending) == 0 || c.pending[0].h.CorrelationID != corr {
			c.mu.Unlock()
			c.p.mu.Lock()
			c.p.errs = append(c.p.errs, fmt.Sprintf("response with correlation id %d does not answer the oldest request", corr))
			c.p.mu.Unlock()
			return
		}
		req := c.pending[0]
		c.pending = c.pending[1:]
		c.mu.Unlock()
		if !req.drop {
			if err := writeFrame(c.client, frame); err != nil {
				return
			}
			continue
		}
		c.drop(req, frame)
		return // closed by drop
	}
}

// drop swallows frame, the response to req, waits for the configured
// number of requests behind it, runs the OnDrop hook and closes.
func (c *proxyConn) drop(req pendingReq, frame []byte) {
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
			if q.h.APIKey == req.h.APIKey {
				n++
			}
		}
		return n
	}
	deadline := time.After(10 * time.Second)
wait:
	for behind(false) < hold {
		select {
		case <-c.sent:
		case <-deadline:
			break wait
		}
	}
	// Stop forwarding requests, then count what is lost behind us.
	dr := droppedResponse{Req: req.h, Request: req.frame, Response: frame, Behind: behind(true)}
	p.mu.Lock()
	p.dropped = append(p.dropped, dr)
	p.mu.Unlock()
	if onDrop != nil {
		onDrop(dr) // the client still waits on its open connection
	}
	c.close()
	select {
	case p.drops <- dr:
	default:
	}
}

// ---------------------------------------------------------------------------
// Decoding what was dropped

// decodeProduceRequest strips the request header from a Produce request frame and
// decodes the body. The header is api key, version, correlation id, client
// id (nullable string) and, from v9 (flexible), tagged fields.
func decodeProduceRequest(frame []byte) (*kmsg.ProduceRequest, error) {
	h := reqHeader{APIKey: int16(binary.BigEndian.Uint16(frame[0:])), Version: int16(binary.BigEndian.Uint16(frame[2:]))}
	if h.APIKey != apiProduce {
		return nil, fmt.Errorf("api key %d is not Produce", h.APIKey)
	}
	b := frame[8:]
	if len(b) < 2 {
		return nil, errors.New("short header")
	}
	if n := int16(binary.BigEndian.Uint16(b)); n > 0 {
		b = b[2+int(n):]
	} else {
		b = b[2:]
	}
	if h.Version >= 9 {
		var err error
		if b, err = skipTags(b); err != nil {
			return nil, err
		}
	}
	req := kmsg.NewPtrProduceRequest()
	req.Version = h.Version
	if err := req.ReadFrom(b); err != nil {
		return nil, err
	}
	return req, nil
}

// decodeProduceResponse decodes a Produce response frame for version v:
// correlation id, tagged fields from v9, then the body.
func decodeProduceResponse(frame []byte, v int16) (*kmsg.ProduceResponse, error) {
	b := frame[4:]
	if v >= 9 {
		var err error
		if b, err = skipTags(b); err != nil {
			return nil, err
		}
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = v
	if err := resp.ReadFrom(b); err != nil {
		return nil, err
	}
	return resp, nil
}

func skipTags(b []byte) ([]byte, error) {
	n, sz := binary.Uvarint(b)
	if sz <= 0 {
		return nil, errors.New("bad tag count")
	}
	b = b[sz:]
	for range n {
		_, sz := binary.Uvarint(b) // tag
		if sz <= 0 {
			return nil, errors.New("bad tag")
		}
		b = b[sz:]
		l, sz := binary.Uvarint(b)
		if sz <= 0 || uint64(len(b)-sz) < l {
			return nil, errors.New("bad tag size")
		}
		b = b[sz+int(l):]
	}
	return b, nil
}

// producedBatch is one record batch inside a Produce request.
type producedBatch struct {
	Topic        string
	Partition    int32
	ProducerID   int64
	BaseSequence int32
	Values       [][]byte // only for uncompressed batches; nil otherwise
	NumRecords   int
}

// produceBatches lists the record batches in a Produce request, with their
// values when they are uncompressed.
func produceBatches(req *kmsg.ProduceRequest) ([]producedBatch, error) {
	var out []producedBatch
	for _, tp := range req.Topics {
		for _, pp := range tp.Partitions {
			recs := pp.Records
			for len(recs) > 0 {
				var rb kmsg.RecordBatch
				if err := rb.ReadFrom(recs); err != nil {
					return nil, err
				}
				recs = recs[12+int(rb.Length):]
				pb := producedBatch{Topic: tp.Topic, Partition: pp.Partition, ProducerID: rb.ProducerID,
					BaseSequence: rb.FirstSequence, NumRecords: int(rb.NumRecords)}
				if rb.Attributes&0x07 == 0 {
					raw := rb.Records
					for range rb.NumRecords {
						l, sz := binary.Varint(raw)
						if sz <= 0 || int64(len(raw)-sz) < l {
							return nil, errors.New("bad record length")
						}
						var r kmsg.Record
						if err := r.ReadFrom(raw[:sz+int(l)]); err != nil {
							return nil, err
						}
						pb.Values = append(pb.Values, r.Value)
						raw = raw[sz+int(l):]
					}
				}
				out = append(out, pb)
			}
		}
	}
	return out, nil
}

// storedDrop checks that the broker accepted every batch of a dropped
// Produce request (so the data is stored and only the ack was lost) and
// returns its batches.
func storedDrop(t testing.TB, d droppedResponse) []producedBatch {
	t.Helper()
	req, err := decodeProduceRequest(d.Request)
	if err != nil {
		t.Fatalf("decode dropped produce request: %v", err)
	}
	resp, err := decodeProduceResponse(d.Response, d.Req.Version)
	if err != nil {
		t.Fatalf("decode dropped produce response: %v", err)
	}
	for _, tp := range resp.Topics {
		for _, pp := range tp.Partitions {
			if pp.ErrorCode != 0 {
				t.Fatalf("the dropped produce (v%d) was refused by the broker: %s/%d error %d", d.Req.Version, tp.Topic, pp.Partition, pp.ErrorCode)
			}
		}
	}
	bs, err := produceBatches(req)
	if err != nil {
		t.Fatalf("decode dropped batches: %v", err)
	}
	if len(bs) == 0 {
		t.Fatal("the dropped produce request held no batch")
	}
	return bs
}
