// Package tlsconf makes the TLS configuration of SSL and SASL_SSL
// listeners from PEM files: the broker's certificate chain and key,
// re-read when the file changes so that a renewed certificate is served
// without a restart; the certificate authorities client certificates are
// checked against; and whether a client certificate is asked for.
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
	ks := &keystore{path: cfg.Keystore, log: cfg.Logger}
	if err := ks.load(); err != nil {
		return nil, err
	}
	tc := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: ks.get,
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
		pool, err := ReadCertPool(cfg.Truststore)
		if err != nil {
			return nil, err
		}
		tc.ClientCAs = pool
	}
	return tc, nil
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

// keystore is the broker's certificate, read again when the file's
// modification time or size changes.
type keystore struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
	size    int64
}

// load reads the file if it changed since the last read. A file that
// cannot be read or parsed keeps the certificate already loaded (a
// renewal may be half written); only the first load fails.
func (k *keystore) load() error {
	fi, err := os.Stat(k.path)
	if err != nil {
		if k.cert == nil {
			return fmt.Errorf("keystore: %w", err)
		}
		k.log.Warn("tls: keystore unreadable; serving the certificate loaded before", "path", k.path, "err", err)
		return nil
	}
	if k.cert != nil && fi.ModTime().Equal(k.modTime) && fi.Size() == k.size {
		return nil
	}
	c, err := ReadKeyPair(k.path)
	if err != nil {
		if k.cert == nil {
			return err
		}
		k.log.Warn("tls: keystore changed but cannot be used; serving the certificate loaded before", "path", k.path, "err", err)
		// Remember this version so that a bad file is reported once, not
		// at every handshake.
		k.modTime, k.size = fi.ModTime(), fi.Size()
		return nil
	}
	if k.cert != nil && c.Leaf != nil { // Leaf is parsed unless GODEBUG x509keypairleaf=0
		k.log.Info("tls: keystore reloaded", "path", k.path, "subject", c.Leaf.Subject.String(), "notAfter", c.Leaf.NotAfter)
	} else if k.cert != nil {
		k.log.Info("tls: keystore reloaded", "path", k.path)
	}
	k.cert, k.modTime, k.size = &c, fi.ModTime(), fi.Size()
	return nil
}

func (k *keystore) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_ = k.load() // an error keeps the certificate loaded before
	return k.cert, nil
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
