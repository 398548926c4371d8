package tlsconf

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"sluice/internal/tlstest"
)

// served is the common name of the certificate a server with cfg
// presents, and the principal it sees for a client presenting client
// (nil: none).
func served(t *testing.T, cfg *tls.Config, ca *tlstest.CA, client *tls.Certificate) (cn, principal string) {
	t.Helper()
	cc, sc := net.Pipe()
	defer cc.Close()
	defer sc.Close()
	deadline := time.Now().Add(10 * time.Second)
	_ = cc.SetDeadline(deadline)
	_ = sc.SetDeadline(deadline)
	ccfg := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}
	if client != nil {
		ccfg.Certificates = []tls.Certificate{*client}
	}
	srv := tls.Server(sc, cfg)
	done := make(chan error, 1)
	go func() { done <- srv.Handshake() }()
	cl := tls.Client(cc, ccfg)
	if err := cl.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	return cl.ConnectionState().PeerCertificates[0].Subject.CommonName, Principal(srv.ConnectionState())
}

// A renewed keystore is served from the next handshake on; one that
// cannot be used keeps the certificate loaded before.
func TestKeystoreReload(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "ca")
	path := tlstest.Write(t, dir, "broker.pem", ca.Server(t, "first").PEM)
	cfg, err := New(Config{Keystore: path})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Fatalf("MinVersion %x, want TLS 1.2", cfg.MinVersion)
	}
	if cn, _ := served(t, cfg, ca, nil); cn != "first" {
		t.Fatalf("served %q, want first", cn)
	}

	// A renewal: the modification time moves on (set explicitly, since
	// two writes within the file system's time granularity may share one).
	renew := func(data []byte, at time.Time) {
		t.Helper()
		tlstest.Write(t, dir, "broker.pem", data)
		if err := os.Chtimes(path, at, at); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	renew(ca.Server(t, "second").PEM, now.Add(time.Minute))
	if cn, _ := served(t, cfg, ca, nil); cn != "second" {
		t.Fatalf("served %q after renewal, want second", cn)
	}
	renew([]byte("not a keystore"), now.Add(2*time.Minute))
	if cn, _ := served(t, cfg, ca, nil); cn != "second" {
		t.Fatalf("served %q after a bad renewal, want second still", cn)
	}
	renew(ca.Server(t, "third").PEM, now.Add(3*time.Minute))
	if cn, _ := served(t, cfg, ca, nil); cn != "third" {
		t.Fatalf("served %q after the bad renewal was fixed, want third", cn)
	}
}

// With client authentication the principal is the client certificate's
// subject; without a certificate (requested) there is none.
func TestClientCertificatePrincipal(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "ca")
	ks := tlstest.Write(t, dir, "broker.pem", ca.Server(t, "broker").PEM)
	ts := tlstest.Write(t, dir, "ca.pem", ca.PEM)
	cfg, err := New(Config{Keystore: ks, Truststore: ts, ClientAuth: ClientAuthRequested})
	if err != nil {
		t.Fatal(err)
	}
	alice := ca.Client(t, pkix.Name{CommonName: "alice", Organization: []string{"Example"}}).TLS
	if _, p := served(t, cfg, ca, &alice); p != "User:CN=alice,O=Example" {
		t.Fatalf("principal %q", p)
	}
	if _, p := served(t, cfg, ca, nil); p != "" {
		t.Fatalf("principal %q without a certificate, want none", p)
	}
}

// Settings that cannot work are refused when the listener is made.
func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "ca")
	ks := tlstest.Write(t, dir, "broker.pem", ca.Server(t, "broker").PEM)
	certOnly := tlstest.Write(t, dir, "cert.pem", ca.Server(t, "broker").CertPEM)
	for name, tc := range map[string]struct {
		cfg  Config
		want string
	}{
		"no keystore":            {Config{}, "ssl.keystore.location"},
		"missing keystore":       {Config{Keystore: dir + "/none.pem"}, "no such file"},
		"keystore without a key": {Config{Keystore: certOnly}, "private key"},
		"required, no truststore": {Config{Keystore: ks, ClientAuth: ClientAuthRequired},
			"ssl.truststore.location"},
		"truststore without certificates": {Config{Keystore: ks, ClientAuth: ClientAuthRequired, Truststore: certOnly + "x"},
			"no such file"},
		"bad client auth": {Config{Keystore: ks, ClientAuth: "sometimes"}, "none, requested or required"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.want)
		}
	}
}
