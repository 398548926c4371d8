package tests

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net"
	"os"

	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/tlsconf"
	"sluice/internal/tlstest"
)

// pki is a throwaway certificate authority and the broker's files.
type pki struct {
	ca         *tlstest.CA
	dir        string
	keystore   string // the broker's certificate and key
	truststore string // the CA, for client certificates and for kcat
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Sluice test CA")
	return pki{ca: ca, dir: dir,
		keystore:   tlstest.Write(t, dir, "broker.pem", ca.Server(t, "broker").PEM),
		truststore: tlstest.Write(t, dir, "ca.pem", ca.PEM)}
}

// tlsBroker runs a broker with the listeners and clientAuth, the PLAIN
// admin user, and every SASL mechanism.
func tlsBroker(t *testing.T, p pki, clientAuth string, listeners ...broker.Listener) *brokertest.Broker {
	t.Helper()
	return brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) {
		c.Listeners = listeners
		c.TLS = tlsconf.Config{Keystore: p.keystore, Truststore: p.truststore, ClientAuth: clientAuth}
		c.SASLMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
		c.SASLPlainUsers = map[string]string{plainUser: plainPass}
	}))
}

func listener(name, protocol string) broker.Listener {
	return broker.Listener{Name: name, Protocol: protocol, Listen: "127.0.0.1:0"}
}

// dialTLS makes a client trust the test CA and present cert, if any.
func dialTLS(p pki, cert *tls.Certificate) kgo.Opt {
	cfg := &tls.Config{RootCAs: p.ca.Pool()}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return kgo.DialTLSConfig(cfg)
}

// produceConsumeAs creates a topic as admin, produces n records as
// client and reads them back as client.
func produceConsumeAs(t *testing.T, addr string, admin, client []kgo.Opt, n int) {
	t.Helper()
	topic := topicName(t, "tls")
	createTopic(t, kadm.NewClient(newClient(t, addr, admin...)), topic, 1, nil)
	p := newClient(t, addr, append([]kgo.Opt{kgo.DefaultProduceTopic(topic)}, client...)...)
	for i := 0; i < n; i++ {
		if err := p.ProduceSync(testCtx(t, 20*time.Second), &kgo.Record{Value: val(i)}).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	for i, r := range consumeN(t, addr, topic, n, client...) {
		if atoi(t, r.Value) != i {
			t.Fatalf("record %d is %s", i, r.Value)
		}
	}
}

// franz-go over SSL: produce and consume end to end, as User:ANONYMOUS
// (no client certificate asked for).
func TestSSLProduceConsume(t *testing.T) {
	p := newPKI(t)
	b := tlsBroker(t, p, "none", listener("SSL", "SSL"))
	opt := []kgo.Opt{dialTLS(p, nil)}
	produceConsumeAs(t, b.Addr(), opt, opt, 20)
	if strings.Contains(b.Log.String(), "server: authenticated") {
		t.Fatalf("a principal other than ANONYMOUS without a client certificate:\n%s", b.Log)
	}
}

// franz-go over SASL_SSL with SCRAM-SHA-256: the credential is made over
// the same listener with PLAIN, then the SCRAM user produces and
// consumes. ssl.client.auth=required asks the SSL listener beside it for
// a certificate, not the SASL_SSL one: these clients have none.
func TestSASLSSLScramProduceConsume(t *testing.T) {
	p := newPKI(t)
	b := tlsBroker(t, p, "required", listener("SASL_SSL", "SASL_SSL"), listener("SSL", "SSL"))
	admin := []kgo.Opt{dialTLS(p, nil), plainAuth(plainUser, plainPass)}
	createScramUser(t, kadm.NewClient(newClient(t, b.Addr(), admin...)), "SCRAM-SHA-256", "carol", "carol-pw")
	produceConsumeAs(t, b.Addr(), admin, []kgo.Opt{dialTLS(p, nil), scramAuth("SCRAM-SHA-256", "carol", "carol-pw")}, 20)
	if !strings.Contains(b.Log.String(), `principal=User:carol by=SASL`) {
		t.Fatalf("no log of carol's principal:\n%s", b.Log)
	}
	// Without TLS the client never gets to SASL.
	cl := newClient(t, b.Addr(), scramAuth("SCRAM-SHA-256", "carol", "carol-pw"), kgo.RetryTimeout(time.Second))
	if err := cl.Ping(testCtx(t, 10*time.Second)); err == nil {
		t.Fatal("a plaintext client authenticated on a SASL_SSL listener")
	}
}

// With ssl.client.auth=required the client certificate's subject is the
// principal; a client without one is refused at the handshake.
func TestMTLSProduceConsume(t *testing.T) {
	p := newPKI(t)
	b := tlsBroker(t, p, "required", listener("SSL", "SSL"))
	alice := p.ca.Client(t, pkix.Name{CommonName: "alice", Organization: []string{"Sluice tests"}}).TLS
	opt := []kgo.Opt{dialTLS(p, &alice)}
	produceConsumeAs(t, b.Addr(), opt, opt, 20)
	if !strings.Contains(b.Log.String(), `principal="User:CN=alice,O=Sluice tests" by="client certificate"`) {
		t.Fatalf("no log of alice's principal:\n%s", b.Log)
	}

	cl := newClient(t, b.Addr(), dialTLS(p, nil), kgo.RetryTimeout(time.Second))
	err := cl.Ping(testCtx(t, 10*time.Second))
	if err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Fatalf("a client without a certificate: %v, want the handshake refused (certificate required)", err)
	}
	// A certificate from another authority is refused too.
	other := newPKI(t).ca.Client(t, pkix.Name{CommonName: "mallory"}).TLS
	cl = newClient(t, b.Addr(), dialTLS(p, &other), kgo.RetryTimeout(time.Second))
	if err := cl.Ping(testCtx(t, 10*time.Second)); err == nil || !strings.Contains(err.Error(), "unknown certificate authority") {
		t.Fatalf("a client with a foreign certificate: %v, want the handshake refused (unknown certificate authority)", err)
	}
	if !strings.Contains(b.Log.String(), "TLS handshake failed") {
		t.Fatalf("no log of the refused handshakes:\n%s", b.Log)
	}
}

// A plaintext client on a TLS port gets the error its own library gives
// for a connection closed before any answer, and the broker logs why and
// closes.
func TestPlaintextClientOnTLSPort(t *testing.T) {
	p := newPKI(t)
	b := tlsBroker(t, p, "none", listener("SSL", "SSL"))
	cl := newClient(t, b.Addr(), kgo.RetryTimeout(time.Second))
	err := cl.Ping(testCtx(t, 10*time.Second))
	if err == nil || !errors.Is(err, io.EOF) {
		t.Fatalf("plaintext ping on a TLS port: %v, want EOF", err)
	}
	if log := b.Log.String(); !strings.Contains(log, "TLS handshake failed") || !strings.Contains(log, "does not look like a TLS handshake") {
		t.Fatalf("no log of the plaintext client:\n%s", log)
	}
	// The raw view: an ApiVersions frame is answered with nothing but a
	// closed connection.
	c := dialRaw(t, b.Addr())
	c.request(kmsg.NewPtrApiVersionsRequest(), 1)
	c.expectClosed()
}

// Metadata, FindCoordinator and DescribeCluster answer each listener's
// clients with that listener's advertised address: a set one, or else its
// own.
func TestListenersAdvertised(t *testing.T) {
	p := newPKI(t)
	b := tlsBroker(t, p, "none",
		broker.Listener{Name: "PLAINTEXT", Protocol: "PLAINTEXT", Listen: "127.0.0.1:0", Advertise: "public.example:9092"},
		broker.Listener{Name: "INTERNAL", Protocol: "PLAINTEXT", Listen: "127.0.0.1:0", Advertise: "broker-0.internal:9094"},
		listener("SSL", "SSL"))
	if b.Addr() != b.ListenerAddr("PLAINTEXT") || b.ListenerAddr("NONE") != "" {
		t.Fatalf("Addr %s, PLAINTEXT %s, NONE %q", b.Addr(), b.ListenerAddr("PLAINTEXT"), b.ListenerAddr("NONE"))
	}
	sslHost, sslPort, _ := net.SplitHostPort(b.ListenerAddr("SSL"))
	for _, tc := range []struct {
		listener, host, port string
	}{
		{"PLAINTEXT", "public.example", "9092"},
		{"INTERNAL", "broker-0.internal", "9094"},
		{"SSL", sslHost, sslPort},
	} {
		c := dialRaw(t, b.ListenerAddr(tc.listener))
		if tc.listener == "SSL" {
			c.nc = tls.Client(c.nc, &tls.Config{RootCAs: p.ca.Pool(), ServerName: "localhost"})
		}
		want := tc.host + ":" + tc.port
		md := kmsg.NewPtrMetadataRequest()
		md.Version = 12
		mr := c.roundTrip(md).(*kmsg.MetadataResponse)
		if len(mr.Brokers) != 1 || net.JoinHostPort(mr.Brokers[0].Host, itoa(int64(mr.Brokers[0].Port))) != want {
			t.Errorf("%s: Metadata brokers %+v, want %s", tc.listener, mr.Brokers, want)
		}
		fc := kmsg.NewPtrFindCoordinatorRequest()
		fc.Version, fc.CoordinatorKeys = 4, []string{"g"}
		fr := c.roundTrip(fc).(*kmsg.FindCoordinatorResponse)
		if len(fr.Coordinators) != 1 || net.JoinHostPort(fr.Coordinators[0].Host, itoa(int64(fr.Coordinators[0].Port))) != want {
			t.Errorf("%s: FindCoordinator %+v, want %s", tc.listener, fr.Coordinators, want)
		}
		dc := kmsg.NewPtrDescribeClusterRequest()
		dr := c.roundTrip(dc).(*kmsg.DescribeClusterResponse)
		if len(dr.Brokers) != 1 || net.JoinHostPort(dr.Brokers[0].Host, itoa(int64(dr.Brokers[0].Port))) != want {
			t.Errorf("%s: DescribeCluster brokers %+v, want %s", tc.listener, dr.Brokers, want)
		}
	}
}

// The broker serves a renewed certificate from the next connection on,
// without a restart; connections made before keep theirs.
func TestCertificateReload(t *testing.T) {
	p := newPKI(t)
	b := tlsBroker(t, p, "none", listener("SSL", "SSL"))
	served := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", b.Addr(), &tls.Config{RootCAs: p.ca.Pool(), ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if cn := served(); cn != "broker" {
		t.Fatalf("served %q", cn)
	}
	cl := newClient(t, b.Addr(), dialTLS(p, nil))
	if err := cl.Ping(testCtx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}

	tlstest.Write(t, p.dir, "broker.pem", p.ca.Server(t, "broker-renewed").PEM)
	// A renewal moves the modification time on; set it so, since two
	// writes within the file system's time granularity may share one.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(p.keystore, later, later); err != nil {
		t.Fatal(err)
	}
	if cn := served(); cn != "broker-renewed" {
		t.Fatalf("served %q after the renewal, want broker-renewed", cn)
	}
	if !strings.Contains(b.Log.String(), "tls: keystore reloaded") {
		t.Fatalf("no log of the reload:\n%s", b.Log)
	}
	if err := cl.Ping(testCtx(t, 10*time.Second)); err != nil {
		t.Fatalf("the connection made before the renewal: %v", err)
	}
	produceConsumeAs(t, b.Addr(), []kgo.Opt{dialTLS(p, nil)}, []kgo.Opt{dialTLS(p, nil)}, 5)
}

// sluice serve reads listeners from its flags: each listener is served
// with the protocol the map gives its name, and an SSL listener without
// a keystore is a bad setting that --check-config reports.
func TestServeListenersFlags(t *testing.T) {
	dir := t.TempDir()
	flags := []string{"--listeners", "PLAINTEXT://127.0.0.1:0,EXTERNAL://127.0.0.1:0",
		"--listener-security-protocol-map", "PLAINTEXT:PLAINTEXT,EXTERNAL:SSL"}
	_, stderr, code := runServe(t, dir, nil, append([]string{"--check-config", "--data-dir", "data"}, flags...)...)
	want := "sluice serve: ssl.keystore.location= (default): not set, but a listener is SSL or SASL_SSL: name the PEM file of the broker's certificate and key\n"
	if code != 2 || stderr != want {
		t.Fatalf("SSL without a keystore: exit %d, stderr:\n%s\nwant:\n%s", code, stderr, want)
	}

	p := newPKI(t)
	proc := brokertest.StartProcess(t, dir, append(flags, "--advertised-listeners", "PLAINTEXT://plain.example:9092",
		"--ssl-keystore-location", p.keystore)...)
	plain, external := proc.ListenerAddr("PLAINTEXT"), proc.ListenerAddr("EXTERNAL")
	if plain != proc.Addr || external == "" {
		t.Fatalf("listeners PLAINTEXT %q (serving %q), EXTERNAL %q:\n%s", plain, proc.Addr, external, proc.Log)
	}
	c := dialRaw(t, plain)
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 12
	if mr := c.roundTrip(md).(*kmsg.MetadataResponse); len(mr.Brokers) != 1 || mr.Brokers[0].Host != "plain.example" {
		t.Fatalf("PLAINTEXT: Metadata brokers %+v", mr.Brokers)
	}
	// EXTERNAL is TLS: franz-go produces and consumes over it.
	produceConsumeAs(t, external, []kgo.Opt{dialTLS(p, nil)}, []kgo.Opt{dialTLS(p, nil)}, 5)
}
