// Package server accepts Kafka client connections and serves each with the
// handler: bounded frames, in-order responses, panic containment, and a
// graceful shutdown that stops accepting, lets in-flight requests finish
// and then closes every connection.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"sluice/internal/handler"
	"sluice/internal/wire"
)

// Config configures the server.
type Config struct {
	// MaxFrameBytes is socket.request.max.bytes; 0 means 100 MiB.
	MaxFrameBytes int32
	Logger        *slog.Logger
	// Requests, if set, is told of every answered request: its API key and
	// the time from its arrival to its response being ready.
	Requests RequestObserver
	// Listener is the listener's name and whether its connections
	// authenticate with SASL; each connection's session starts from it.
	Listener handler.Listener
	// TLS, if set, makes every connection a TLS server connection (SSL
	// and SASL_SSL listeners); the handshake runs before the first
	// request is read. Without SASL the client certificate, if any,
	// gives the connection's principal.
	TLS *tls.Config
	// HandshakeTimeout bounds the TLS handshake; 0 means 10 seconds.
	HandshakeTimeout time.Duration
	// Limits, shared by every listener of the broker, bounds its
	// connections; nil: no limits.
	Limits *Limits
}

// defaultHandshakeTimeout is long enough for a client on a slow link and
// short enough that connections which never finish do not pile up.
const defaultHandshakeTimeout = 10 * time.Second

// RequestObserver counts answered requests (the broker's metrics).
type RequestObserver interface {
	Request(key int16, elapsed time.Duration)
	// Throttled counts a response that carried a quota's throttle time d.
	Throttled(key int16, d time.Duration)
}

// Server serves the Kafka protocol on one listener.
type Server struct {
	cfg     Config
	handler *handler.Handler
	ln      net.Listener

	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup
	// quit is closed by Shutdown: connections waiting out a throttle stop.
	quit     chan struct{}
	quitOnce sync.Once
}

// New returns a server over a listener.
func New(ln net.Listener, h *handler.Handler, cfg Config) *Server {
	if cfg.MaxFrameBytes <= 0 {
		cfg.MaxFrameBytes = wire.DefaultMaxFrameBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = defaultHandshakeTimeout
	}
	return &Server{cfg: cfg, handler: h, ln: ln, conns: map[*conn]struct{}{}, quit: make(chan struct{})}
}

// Conns is the number of open client connections.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Addr is the listener's address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until the listener is closed.
func (s *Server) Serve(ctx context.Context) error {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		s.start(ctx, nc)
	}
}

func (s *Server) start(ctx context.Context, nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	log := s.cfg.Logger.With("remote", nc.RemoteAddr().String())
	if s.cfg.Listener.Name != "" {
		log = log.With("listener", s.cfg.Listener.Name)
	}
	ip := remoteHost(nc)
	if ok, limit := s.cfg.Limits.admit(ip, s.cfg.Listener.SASL); !ok {
		log.Warn("server: refusing a connection over "+limit, "limit", limit)
		nc.Close()
		return
	}
	c := &conn{
		srv: s, raw: nc, nc: nc, host: ip, unauthenticated: s.cfg.Listener.SASL,
		log:    log,
		out:    make(chan pending, maxPipelined),
		closed: make(chan struct{}),
	}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve(ctx)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		if c.unauthenticated {
			s.cfg.Limits.authenticated()
		}
		s.cfg.Limits.release(ip)
	}()
}

func remoteHost(nc net.Conn) string {
	host, _, err := net.SplitHostPort(nc.RemoteAddr().String())
	if err != nil {
		return nc.RemoteAddr().String()
	}
	return "/" + host // Kafka reports client hosts with a leading slash
}

// Shutdown stops accepting, closes the read side of every connection so no
// new request is read, waits for the responses already owed (up to ctx),
// then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.ln.Close()
	s.quitOnce.Do(func() { close(s.quit) })
	s.mu.Lock()
	for c := range s.conns {
		// The TCP connection, also under TLS: a read on the TLS
		// connection then ends as on a plain one, and its writes go on.
		if tc, ok := c.raw.(*net.TCPConn); ok {
			_ = tc.CloseRead()
		} else {
			c.raw.Close()
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.raw.Close()
		}
		s.mu.Unlock()
		<-done
	}
	return err
}
