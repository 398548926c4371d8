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

// serverHandshake runs a handshake over loopback TCP of a client that
// trusts ca and presents client, and returns the server's error.
func serverHandshake(t *testing.T, cfg *tls.Config, ca *tlstest.CA, client tls.Certificate) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		done <- tls.Server(c, cfg).Handshake()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	cl := tls.Client(c, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", Certificates: []tls.Certificate{client}})
	_ = cl.Handshake() // under TLS 1.3 the client may finish before the server has checked it
	return <-done
}

// A changed truststore applies from the next handshake on: an authority
// added is trusted, one removed is not; a file that cannot be used keeps
// the authorities loaded before.
func TestTruststoreReload(t *testing.T) {
	dir := t.TempDir()
	first, second := tlstest.NewCA(t, "first-ca"), tlstest.NewCA(t, "second-ca")
	ks := tlstest.Write(t, dir, "broker.pem", first.Server(t, "broker").PEM)
	ts := tlstest.Write(t, dir, "ca.pem", first.PEM)
	cfg, err := New(Config{Keystore: ks, Truststore: ts, ClientAuth: ClientAuthRequired})
	if err != nil {
		t.Fatal(err)
	}
	byFirst := first.Client(t, pkix.Name{CommonName: "alice"}).TLS
	bySecond := second.Client(t, pkix.Name{CommonName: "bob"}).TLS
	check := func(step string, wantFirst, wantSecond bool) {
		t.Helper()
		for _, c := range []struct {
			name  string
			cert  tls.Certificate
			trust bool
		}{{"first", byFirst, wantFirst}, {"second", bySecond, wantSecond}} {
			err := serverHandshake(t, cfg, first, c.cert)
			if (err == nil) != c.trust {
				t.Fatalf("%s: client of the %s authority: handshake error %v, want trusted=%v", step, c.name, err, c.trust)
			}
			if err != nil && !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("%s: refused for another reason: %v", step, err)
			}
		}
	}
	check("at start", true, false)

	now := time.Now()
	replace := func(data []byte, at time.Time) {
		t.Helper()
		tlstest.Write(t, dir, "ca.pem", data)
		if err := os.Chtimes(ts, at, at); err != nil {
			t.Fatal(err)
		}
	}
	replace(append(append([]byte(nil), first.PEM...), second.PEM...), now.Add(time.Minute))
	check("second authority added", true, true)
	replace([]byte("not a truststore"), now.Add(2*time.Minute))
	check("bad file", true, true)
	replace(second.PEM, now.Add(3*time.Minute))
	check("first authority removed", false, true)
}

// WithoutClientAuth serves a client without a certificate from a
// configuration that requires one, truststore reloading included.
func TestWithoutClientAuth(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "ca")
	ks := tlstest.Write(t, dir, "broker.pem", ca.Server(t, "broker").PEM)
	ts := tlstest.Write(t, dir, "ca.pem", ca.PEM)
	cfg, err := New(Config{Keystore: ks, Truststore: ts, ClientAuth: ClientAuthRequired})
	if err != nil {
		t.Fatal(err)
	}
	if cn, p := served(t, WithoutClientAuth(cfg), ca, nil); cn != "broker" || p != "" {
		t.Fatalf("served %q to principal %q, want broker to no principal", cn, p)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.GetConfigForClient == nil {
		t.Fatal("WithoutClientAuth changed the configuration it copied")
	}
}
