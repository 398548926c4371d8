// Package nullbroker is the bench's "null" peer: a one-node Kafka broker
// that acknowledges every produce without storing it. What a client
// reaches against it is the client's own ceiling on this machine, the
// yardstick for what the brokers under test cost.
//
// It keeps per partition only the high watermark and the size of the last
// record value. Fetches are answered with batches built on the fly (see
// synth.go): as many records of that size as were acknowledged, so a
// consumer reading concurrently does the same decoding work it does
// against a real broker, without anything having been stored. It checks
// nothing (no CRC, no sequence), answers in request order on each
// connection, and long-polls fetches until data arrives or max_wait_ms
// ends, as brokers do, so an idle consumer does not spin.
package nullbroker

import (
	"bufio"
	"errors"
	"net"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/wire"
)

// Server is a running null broker.
type Server struct {
	ln       net.Listener
	state    *state
	sessions sessions
	wg       sync.WaitGroup
	done     chan struct{}

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// Listen starts a null broker on addr (host:port; port 0 picks one).
func Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, state: newState(ln.Addr().(*net.TCPAddr)), done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the address clients connect to.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops accepting, cuts every connection and waits for them.
func (s *Server) Close() error {
	close(s.done)
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.state.data.fire() // release long polls
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

// serve handles one connection's requests one at a time, in order; a
// long-polling fetch holds the connection, which kgo, like every client,
// gives a connection of its own.
func (s *Server) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReaderSize(c, 64<<10)
	bw := bufio.NewWriterSize(c, 64<<10)
	var in, out []byte
	for {
		frame, err := wire.ReadFrame(br, in, wire.DefaultMaxFrameBytes)
		if err != nil {
			return
		}
		in = frame[:0]
		hdr, resp, err := s.handle(frame)
		if err != nil {
			return
		}
		if resp != nil {
			out = wire.AppendResponse(out[:0], hdr.CorrelationID, resp)
			if _, err := bw.Write(out); err != nil {
				return
			}
		}
		// Flush when no further request is already waiting: pipelined
		// requests share one write.
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}

var errUnsupported = errors.New("nullbroker: unsupported request")

// handle decodes one request and answers it; a nil response is acks=0.
func (s *Server) handle(frame []byte) (wire.RequestHeader, kmsg.Response, error) {
	hdr, err := wire.ParseRequestHeader(frame)
	if err != nil {
		return hdr, nil, err
	}
	api, ok := apis[hdr.Key]
	if hdr.Key == wire.ApiVersionsKey && ok && hdr.Version > api.max {
		return hdr, s.unsupportedApiVersions(), nil
	}
	if !ok || hdr.Version < api.min || hdr.Version > api.max {
		return hdr, nil, errUnsupported
	}
	req := kmsg.RequestForKey(hdr.Key)
	req.SetVersion(hdr.Version)
	if err := hdr.SkipHeaderTags(req); err != nil {
		return hdr, nil, err
	}
	if err := req.ReadFrom(hdr.Body); err != nil {
		return hdr, nil, err
	}
	return hdr, api.fn(s, req), nil
}
