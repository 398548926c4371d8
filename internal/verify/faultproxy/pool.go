package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// Pool is one proxy per broker of a cluster, for brokers that advertise
// their own addresses (any Kafka-compatible cluster, not only one told
// to advertise a proxy): the pool rewrites every broker address in
// Metadata, FindCoordinator and DescribeCluster responses to the address
// of that broker's proxy, starting a proxy for a broker it has not seen,
// so that all of a client's traffic passes a proxy.
//
// Rules and delays set on the pool apply to every proxy in it, later ones
// included; a rule's Request.N counts that proxy's requests.
type Pool struct {
	host string // the proxies listen on host:0

	mu       sync.Mutex
	byTarget map[string]*Proxy // a broker's address -> its proxy
	all      []*Proxy
	seeds    []string
	rule     Rule
	delay    func(Request) time.Duration
	closed   bool
	drops    chan Drop
}

// NewPool starts a proxy for each bootstrap broker address, listening on
// 127.0.0.1.
func NewPool(brokers []string) (*Pool, error) {
	p := &Pool{host: "127.0.0.1", byTarget: map[string]*Proxy{}, drops: make(chan Drop, 64)}
	for _, b := range brokers {
		px, err := p.proxyFor(b)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.seeds = append(p.seeds, px.Addr())
	}
	return p, nil
}

// Seeds are the addresses clients bootstrap from, one per broker given
// to NewPool.
func (p *Pool) Seeds() []string { return p.seeds }

// proxyFor returns the proxy of the broker at target, starting it if
// needed.
func (p *Pool) proxyFor(target string) (*Proxy, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if px, ok := p.byTarget[target]; ok {
		return px, nil
	}
	if p.closed {
		return nil, errors.New("faultproxy: pool closed")
	}
	px, err := Listen(net.JoinHostPort(p.host, "0"))
	if err != nil {
		return nil, err
	}
	px.SetTarget(target)
	px.DropResponses(p.rule)
	px.DelayResponses(p.delay)
	px.OnDrop(func(d Drop) {
		select {
		case p.drops <- d:
		default:
		}
	})
	px.rewriteWith(p.mapAddr)
	p.byTarget[target] = px
	p.all = append(p.all, px)
	return px, nil
}

// mapAddr is the address clients get for the broker at host:port.
func (p *Pool) mapAddr(host string, port int32) (string, int32, error) {
	px, err := p.proxyFor(net.JoinHostPort(host, strconv.Itoa(int(port))))
	if err != nil {
		return "", 0, err
	}
	h, ps, err := net.SplitHostPort(px.Addr())
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(ps)
	if err != nil {
		return "", 0, fmt.Errorf("faultproxy: proxy port %q: %w", ps, err)
	}
	return h, int32(n), nil
}

func (p *Pool) proxies() []*Proxy {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Proxy(nil), p.all...)
}

// DropResponses installs rule on every proxy (nil: drop nothing).
func (p *Pool) DropResponses(rule Rule) {
	p.mu.Lock()
	p.rule = rule
	p.mu.Unlock()
	for _, px := range p.proxies() {
		px.DropResponses(rule)
	}
}

// DelayResponses installs fn on every proxy (nil: no delay).
func (p *Pool) DelayResponses(fn func(Request) time.Duration) {
	p.mu.Lock()
	p.delay = fn
	p.mu.Unlock()
	for _, px := range p.proxies() {
		px.DelayResponses(fn)
	}
}

// CutAll cuts every connection of every proxy and returns how many.
func (p *Pool) CutAll() int {
	n := 0
	for _, px := range p.proxies() {
		n += px.CutAll()
	}
	return n
}

// Drops delivers each drop of any proxy as it happens (buffered).
func (p *Pool) Drops() <-chan Drop { return p.drops }

// Counts sums the requests of each API key over the proxies.
func (p *Pool) Counts() map[int16]int {
	out := map[int16]int{}
	for _, px := range p.proxies() {
		for k, v := range px.Counts() {
			out[k] += v
		}
	}
	return out
}

// Close stops every proxy and returns their protocol surprises.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	var errs []error
	for _, px := range p.proxies() {
		errs = append(errs, px.Close())
	}
	return errors.Join(errs...)
}
