// Package faultproxy is a Kafka-aware TCP proxy that injects the network
// faults a delivery guarantee must survive: it swallows the broker's
// response to a chosen request after the broker handled it (the
// "acknowledgement lost" case: the data is stored, the client never hears
// of it and retries on a new connection), delays responses, and cuts
// connections.
//
// It reads frames in both directions and relies on Kafka answering the
// requests of one connection in order, so each response belongs to the
// oldest request still unanswered. Clients reach the proxy only if the
// broker advertises the proxy's address in Metadata: start the proxy,
// start the broker advertising Addr, then SetTarget the broker's real
// address.
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Request is what the proxy knows of a request as it passes: the first
// eight bytes of every request header version, and its number.
type Request struct {
	APIKey        int16
	Version       int16
	CorrelationID int32
	N             int // 1-based: this is the proxy's Nth request with APIKey, over all connections
}

// Rule decides, as a request passes, whether its response is dropped.
// Rules are called one at a time, in the order requests arrive.
type Rule func(Request) bool

// NthRequest drops the response to the proxy's nth request of api
// (counted over all connections, retries included), once.
func NthRequest(api int16, n int) Rule {
	return func(r Request) bool { return r.APIKey == api && r.N == n }
}

// Drop records one swallowed response and what was lost with it.
type Drop struct {
	Req      Request
	Request  []byte // the request frame without its length prefix
	Response []byte // the swallowed response frame without its length prefix
	// Behind counts the requests of the same API key sent on the
	// connection after this one and still unanswered when the proxy closed
	// it: their responses were lost as well.
	Behind int
}

// Proxy forwards connections to a target and injects faults.
type Proxy struct {
	ln net.Listener

	mu      sync.Mutex
	target  string // the broker; "" makes the proxy refuse (close) new connections
	rule    Rule
	delay   func(Request) time.Duration
	hold    int           // see HoldUntilBehind
	onDrop  func(Drop)    // see OnDrop
	rewrite addrMapper    // set by a Pool: broker addresses in responses become proxies'
	counts  map[int16]int // requests seen per API key
	conns   map[*conn]bool
	dropped []Drop
	drops   chan Drop // every drop is also sent here (buffered)
	errs    []error   // protocol surprises, returned by Close
}

// Listen starts a proxy on addr (e.g. "127.0.0.1:0") that forwards
// nowhere until SetTarget.
func Listen(addr string) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, counts: map[int16]int{}, conns: map[*conn]bool{}, drops: make(chan Drop, 64)}
	go p.accept()
	return p, nil
}

// Addr is the address clients (and the broker's advertised listener)
// must use.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetTarget points new connections at addr ("" refuses them). Existing
// connections keep their broker.
func (p *Proxy) SetTarget(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = addr
}

// DropResponses installs rule (nil: drop nothing).
func (p *Proxy) DropResponses(rule Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rule = rule
}

// DelayResponses holds the response to each request for as long as fn
// says (nil or 0: no delay). A delayed response also holds back the ones
// behind it on its connection, as a slow network would.
func (p *Proxy) DelayResponses(fn func(Request) time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = fn
}

// HoldUntilBehind makes the proxy, once it has a response to drop, wait
// until at least n more requests of the same API key were sent on that
// connection (or 10s pass) before it closes it, so the drop lands in the
// middle of several in-flight requests.
func (p *Proxy) HoldUntilBehind(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = n
}

// OnDrop runs fn after a response is swallowed and before the client's
// connection is closed: the client cannot retry until fn returns.
func (p *Proxy) OnDrop(fn func(Drop)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onDrop = fn
}

// rewriteWith makes the proxy map the broker addresses in responses by m.
func (p *Proxy) rewriteWith(m addrMapper) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rewrite = m
}

// Dropped returns every response swallowed so far.
func (p *Proxy) Dropped() []Drop {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Drop(nil), p.dropped...)
}

// Drops delivers each drop as it happens (buffered; drops beyond the
// buffer are only in Dropped).
func (p *Proxy) Drops() <-chan Drop { return p.drops }

// Count is how many requests of api passed the proxy.
func (p *Proxy) Count(api int16) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[api]
}

// Counts returns how many requests of each API key passed the proxy.
func (p *Proxy) Counts() map[int16]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int16]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// CutAll closes every open connection at once, in both directions, as a
// network partition or a reset would; clients reconnect through the proxy.
// It returns how many it cut.
func (p *Proxy) CutAll() int {
	p.mu.Lock()
	conns := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	return len(conns)
}

// Close stops the proxy and closes its connections. It returns the
// protocol surprises seen (a response that answered no pending request).
func (p *Proxy) Close() error {
	p.ln.Close()
	p.CutAll()
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(p.errs...)
}

func (p *Proxy) count(api int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.countLocked(api)
}

// countLocked counts one request of api and returns its number; p.mu
// must be held.
func (p *Proxy) countLocked(api int16) int {
	p.counts[api]++
	return p.counts[api]
}

func (p *Proxy) surprise(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *Proxy) accept() {
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
		c := &conn{p: p, client: client, broker: broker, sent: make(chan struct{}, 1)}
		p.mu.Lock()
		p.conns[c] = true
		p.mu.Unlock()
		go c.requests()
		go c.responses()
	}
}
