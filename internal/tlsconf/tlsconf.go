// Package tlsconf makes the TLS configuration of SSL and SASL_SSL
// listeners from PEM files: the broker's certificate chain and key,
// re-read when the file changes so that a renewed certificate is served
// without a restart; the certificate authorities client certificates are
// checked against, re-read the same way; and whether a client
// certificate is asked for.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Client authentication, as ssl.client.auth names it.
const (
	ClientAuthNone      = "none"      // no client certificate asked for
	ClientAuthRequested = "requested" // asked for; checked when given
	ClientAuthRequired  = "required"  // a connection without one is refused
)

// Config is where the PEM files are and whether clients authenticate
// with certificates.
type Config struct {
	// Keystore is a PEM file holding the broker's certificate chain
	// (leaf first) and its unencrypted private key (ssl.keystore.location
	// with ssl.keystore.type=PEM). One file rather than two, so that a
	// renewal replaces key and certificate together and no handshake sees
	// a new certificate with the old key.
	Keystore string
	// Truststore is a PEM file of the certificate authorities client
	// certificates must chain to (ssl.truststore.location); needed when
	// ClientAuth is requested or required.
	Truststore string
	ClientAuth string // ClientAuthNone (default), ClientAuthRequested, ClientAuthRequired
	Logger     *slog.Logger
}

// New reads the files and returns the server configuration: TLS 1.2 at
// least (older versions have known weaknesses and every current client
// speaks 1.2), Go's default cipher suites, and the keystore checked for a
// change at each handshake.
func New(cfg Config) (*tls.Config, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Keystore == "" {
		return nil, errors.New("no keystore: an SSL or SASL_SSL listener needs ssl.keystore.location")
	}
	ks := newKeystore(cfg.Keystore, cfg.Logger)
	if err := ks.loadLocked(); err != nil {
		return nil, err
	}
	tc := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			c, _ := ks.get()
			return c, nil
		},
	}
	switch cfg.ClientAuth {
	case "", ClientAuthNone:
		tc.ClientAuth = tls.NoClientCert
	case ClientAuthRequested:
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	case ClientAuthRequired:
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return nil, fmt.Errorf("ssl.client.auth %q: must be none, requested or required", cfg.ClientAuth)
	}
	if tc.ClientAuth != tls.NoClientCert {
		if cfg.Truststore == "" {
			// Without one, Go would check client certificates against the
			// system's authorities: any publicly issued certificate would
			// then be a principal.
			return nil, fmt.Errorf("ssl.client.auth=%s needs ssl.truststore.location: the authorities client certificates must chain to", cfg.ClientAuth)
		}
		ts := newTruststore(cfg.Truststore, cfg.Logger)
		if err := ts.loadLocked(); err != nil {
			return nil, err
		}
		tc.ClientCAs = ts.val
		cas := &clientCAs{base: tc.Clone(), trust: ts}
		tc.GetConfigForClient = cas.forClient
	}
	return tc, nil
}

// WithoutClientAuth returns a copy of cfg, made by New, that asks for no
// client certificate: for listeners whose clients authenticate otherwise
// (SASL_SSL, KIP-684). It drops the truststore with its per-handshake
// configuration, which would bring the client authentication back.
func WithoutClientAuth(cfg *tls.Config) *tls.Config {
	c := cfg.Clone()
	c.ClientAuth, c.ClientCAs, c.GetConfigForClient = tls.NoClientCert, nil, nil
	return c
}

// ReadCertPool reads a PEM file of certificates.
func ReadCertPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("truststore: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("truststore %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// ReadKeyPair reads a keystore file: a PEM certificate chain and private
// key in one file.
func ReadKeyPair(path string) (tls.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("keystore: %w", err)
	}
	// Each argument is searched for its own kind of block, so one file
	// serves as both.
	c, err := tls.X509KeyPair(b, b)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("keystore %s: %w", path, err)
	}
	return c, nil
}

// reloading is a value read from a PEM file and read again when the
// file's modification time or size changes, checked at each handshake
// (a stat: cheap beside the handshake). A file that cannot be read or
// parsed keeps the value loaded before (a renewal may be half written),
// reported once per version of the file; only the first load fails.
type reloading[T any] struct {
	path  string
	what  string // "keystore", "truststore": for messages
	parse func(path string) (T, error)
	about func(T) []any // what a reload line says of the new value
	log   *slog.Logger

	mu      sync.Mutex
	val     T
	loaded  bool
	version int // counts loads, so users can cache what they derive
	modTime time.Time
	size    int64
}

// loadLocked reads the file if it changed since the last read. Requires
// r.mu (or no concurrent use yet).
func (r *reloading[T]) loadLocked() error {
	fi, err := os.Stat(r.path)
	if err != nil {
		if !r.loaded {
			return fmt.Errorf("%s: %w", r.what, err)
		}
		r.log.Warn("tls: "+r.what+" unreadable; using the one loaded before", "path", r.path, "err", err)
		return nil
	}
	if r.loaded && fi.ModTime().Equal(r.modTime) && fi.Size() == r.size {
		return nil
	}
	v, err := r.parse(r.path)
	if err != nil {
		if !r.loaded {
			return err
		}
		r.log.Warn("tls: "+r.what+" changed but cannot be used; using the one loaded before", "path", r.path, "err", err)
		// Remember this version so that a bad file is reported once, not
		// at every handshake.
		r.modTime, r.size = fi.ModTime(), fi.Size()
		return nil
	}
	if r.loaded {
		r.log.Info("tls: "+r.what+" reloaded", append([]any{"path", r.path}, r.about(v)...)...)
	}
	r.val, r.loaded, r.modTime, r.size = v, true, fi.ModTime(), fi.Size()
	r.version++
	return nil
}

// get returns the current value and its version, reading the file again
// if it changed.
func (r *reloading[T]) get() (T, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.loadLocked() // an error keeps the value loaded before
	return r.val, r.version
}

func newKeystore(path string, log *slog.Logger) *reloading[*tls.Certificate] {
	return &reloading[*tls.Certificate]{path: path, what: "keystore", log: log,
		parse: func(path string) (*tls.Certificate, error) {
			c, err := ReadKeyPair(path)
			return &c, err
		},
		about: func(c *tls.Certificate) []any {
			if c.Leaf == nil { // Leaf is parsed unless GODEBUG x509keypairleaf=0
				return nil
			}
			return []any{"subject", c.Leaf.Subject.String(), "notAfter", c.Leaf.NotAfter}
		}}
}

func newTruststore(path string, log *slog.Logger) *reloading[*x509.CertPool] {
	return &reloading[*x509.CertPool]{path: path, what: "truststore", log: log, parse: ReadCertPool,
		about: func(*x509.CertPool) []any { return nil }}
}

// clientCAs serves the configuration of each handshake with the
// truststore as it is now: a changed file (a new authority added, or one
// removed) applies from the next handshake on, like a renewed keystore.
// Connections already made are not checked again.
type clientCAs struct {
	base  *tls.Config
	trust *reloading[*x509.CertPool]

	mu      sync.Mutex
	cfg     *tls.Config // base with the pool of version
	version int
}

func (c *clientCAs) forClient(*tls.ClientHelloInfo) (*tls.Config, error) {
	pool, version := c.trust.get()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg == nil || c.version != version {
		cfg := c.base.Clone()
		cfg.ClientCAs = pool
		c.cfg, c.version = cfg, version
	}
	return c.cfg, nil
}

// Principal is the principal of a TLS connection's client: "User:" and
// the subject of its certificate as an RFC 2253 distinguished name
// ("CN=alice,O=Example"), or "" when the client gave no certificate.
func Principal(cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	return "User:" + cs.PeerCertificates[0].Subject.String()
}
