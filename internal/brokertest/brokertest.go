// Package brokertest starts real Sluice brokers for tests: in-process on
// 127.0.0.1:0 in a temp dir or on a crashable in-memory file system, or as a
// child process of the sluice binary that can be killed with SIGKILL.
package brokertest

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"

	"sluice/internal/broker"
	"sluice/internal/vfs"
)

// Broker is an in-process broker bound to a test.
type Broker struct {
	*broker.Broker
	Cfg broker.Config
	Log *SyncBuffer // everything the broker logged
}

// Option changes the config before start.
type Option func(*broker.Config)

// WithFS runs the broker on fsys (for example a vfs.MemFS).
func WithFS(fsys vfs.FS) Option { return func(c *broker.Config) { c.FS = fsys } }

// WithConfig lets a test set any field.
func WithConfig(fn func(*broker.Config)) Option { return Option(fn) }

// Start runs a broker on 127.0.0.1:0 with a fresh temp data dir and closes
// it when the test ends.
func Start(t testing.TB, opts ...Option) *Broker {
	t.Helper()
	cfg := broker.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir()}
	for _, o := range opts {
		o(&cfg)
	}
	return StartConfig(t, cfg)
}

// StartConfig runs a broker with exactly cfg (a test restarting a broker
// passes the previous Cfg) and closes it when the test ends.
func StartConfig(t testing.TB, cfg broker.Config) *Broker {
	t.Helper()
	logBuf := &SyncBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	b, err := broker.Start(cfg)
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return &Broker{Broker: b, Cfg: cfg, Log: logBuf}
}

// SyncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
