package server

import (
	"sync"
	"time"
)

// Limits bounds the connections of every listener of a broker together,
// as Kafka's max.connections and max.connections.per.ip do, so that one
// client, or a flood of them, cannot take the broker's file descriptors
// and memory from everybody else. A connection over a limit is closed as
// soon as it is accepted, before anything of it is read, with a log line.
// The zero Limits admits everything.
type Limits struct {
	MaxConnections      int // 0: no limit
	MaxConnectionsPerIP int // 0: no limit
	// MaxUnauthenticated bounds the connections of SASL listeners that
	// have not finished authenticating, so that a burst of them cannot
	// take every connection from clients that would; 0: no limit.
	MaxUnauthenticated int
	// IdleTimeout closes a connection that sent no request for that long
	// (connections.max.idle.ms); 0: never.
	IdleTimeout time.Duration

	mu      sync.Mutex
	total   int
	perIP   map[string]int
	unauthn int
}

// admit counts a new connection from host (one that must authenticate
// first with sasl), or refuses it and says which limit it hit.
func (l *Limits) admit(host string, sasl bool) (ok bool, why string) {
	if l == nil {
		return true, ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.MaxConnections > 0 && l.total >= l.MaxConnections:
		return false, "max.connections"
	case l.MaxConnectionsPerIP > 0 && l.perIP[host] >= l.MaxConnectionsPerIP:
		return false, "max.connections.per.ip"
	case sasl && l.MaxUnauthenticated > 0 && l.unauthn >= l.MaxUnauthenticated:
		return false, "max.connections.unauthenticated"
	}
	if sasl {
		l.unauthn++
	}
	if l.perIP == nil {
		l.perIP = map[string]int{}
	}
	l.total++
	l.perIP[host]++
	return true, ""
}

// release uncounts a connection admitted from host.
func (l *Limits) release(host string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perIP[host]--; l.perIP[host] <= 0 {
		delete(l.perIP, host)
	}
}

// authenticated uncounts a connection admitted with sasl once it has
// authenticated, or ended without.
func (l *Limits) authenticated() {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.unauthn--
	l.mu.Unlock()
}

// idle is the read deadline a connection waiting for its next request
// gets; the zero time when there is no idle timeout.
func (l *Limits) idle() time.Time {
	if l == nil || l.IdleTimeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(l.IdleTimeout)
}
