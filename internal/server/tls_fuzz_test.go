package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"sluice/internal/handler"
	"sluice/internal/tlsconf"
	"sluice/internal/tlstest"
)

// syncBuffer is a log destination safe for the connection's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// clientHello is the first flight of a real TLS client, a seed that gets
// the fuzzer past the record layer into the handshake.
func clientHello(f testing.TB) []byte {
	cc, sc := net.Pipe()
	defer sc.Close()
	go func() {
		_ = tls.Client(cc, &tls.Config{ServerName: "localhost"}).Handshake()
		cc.Close()
	}()
	_ = sc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hdr [5]byte
	if _, err := io.ReadFull(sc, hdr[:]); err != nil {
		f.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[3:]))
	if _, err := io.ReadFull(sc, body); err != nil {
		f.Fatal(err)
	}
	return append(hdr[:], body...)
}

// tlsServer is a server on a TLS listener that logs to logs, with a
// short handshake timeout.
func tlsServer(t testing.TB, cfg *tls.Config, logs io.Writer) *Server {
	return New(nil, handler.New(handler.Env{}), Config{TLS: cfg, HandshakeTimeout: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
}

// tlsConfig is a TLS listener's configuration with throwaway certificates.
func tlsConfig(t testing.TB) *tls.Config {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "ca")
	ks := tlstest.Write(t, dir, "broker.pem", ca.Server(t, "broker").PEM)
	ts := tlstest.Write(t, dir, "ca.pem", ca.PEM)
	cfg, err := tlsconf.New(tlsconf.Config{Keystore: ks, Truststore: ts, ClientAuth: tlsconf.ClientAuthRequested})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// pair is the two ends of a loopback TCP connection.
func pair(t testing.TB, ln net.Listener) (client, server *net.TCPConn) {
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return cc.(*net.TCPConn), sc.(*net.TCPConn)
}

// Whatever a client sends first to a TLS listener (a plaintext Kafka
// request, a damaged or partial handshake), the connection ends in a
// closed connection and a log line, and nothing panics. The client
// half-closes after its bytes, so that a server waiting for more fails
// at once instead of at the handshake timeout.
func FuzzTLSHandshake(f *testing.F) {
	cfg := tlsConfig(f)
	hello := clientHello(f)
	apiVersions := []byte{0, 0, 0, 10, 0, 18, 0, 3, 0, 0, 0, 1, 0xff, 0xff}
	f.Add([]byte{})
	f.Add(apiVersions)
	f.Add(hello)
	f.Add(hello[:len(hello)/2])
	f.Add(append(append([]byte(nil), hello...), apiVersions...))
	f.Add([]byte{0x16, 0x03, 0x01, 0xff, 0xff})
	f.Add([]byte{0x80, 0x2e, 0x01, 0x03, 0x01}) // an SSLv2-style hello
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer ln.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		logs := &syncBuffer{}
		s := tlsServer(t, cfg, logs)
		cc, sc := pair(t, ln)
		defer cc.Close()
		s.start(context.Background(), sc)
		go func() { // fails once the server closes
			_, _ = cc.Write(data)
			_ = cc.CloseWrite()
		}()
		_ = cc.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(io.Discard, cc) // what the server answers, until it closes
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("connection still open")
		}
		s.wg.Wait()
		if n := s.Conns(); n != 0 {
			t.Fatalf("%d connections left", n)
		}
		if !strings.Contains(logs.String(), "TLS handshake failed") {
			t.Fatalf("no log line for the failed handshake:\n%s", logs)
		}
	})
}

// A client that connects and sends nothing, or stops in the middle of
// the handshake, is closed at the handshake timeout.
func TestTLSHandshakeTimeout(t *testing.T) {
	cfg := tlsConfig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, first := range [][]byte{nil, clientHello(t)} {
		logs := &syncBuffer{}
		s := tlsServer(t, cfg, logs)
		cc, sc := pair(t, ln)
		s.start(context.Background(), sc)
		if _, err := cc.Write(first); err != nil {
			t.Fatal(err)
		}
		_ = cc.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(io.Discard, cc)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("connection still open 10s after a 200ms handshake timeout")
		}
		s.wg.Wait()
		cc.Close()
		if !strings.Contains(logs.String(), "i/o timeout") {
			t.Fatalf("no timeout logged:\n%s", logs)
		}
	}
}
