package tests

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"sluice/internal/tlstest"
)

// kcatRun runs kcat against addr with the -X settings in conf.
func kcatRun(t *testing.T, kcat, addr string, conf []string, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"-b", addr}
	for _, c := range conf {
		base = append(base, "-X", c)
	}
	cmd := exec.CommandContext(ctx, kcat, append(base, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// kcatRoundTrip produces 100 lines with acks=all and consumes them back
// in order.
func kcatRoundTrip(t *testing.T, kcat, addr, topic string, conf []string) {
	t.Helper()
	var in bytes.Buffer
	for i := 0; i < 100; i++ {
		fmt.Fprintln(&in, i)
	}
	if _, stderr, err := kcatRun(t, kcat, addr, conf, in.Bytes(), "-P", "-t", topic, "-X", "acks=all"); err != nil {
		t.Fatalf("produce: %v\n%s", err, stderr)
	}
	out, stderr, err := kcatRun(t, kcat, addr, conf, nil, "-C", "-t", topic, "-o", "beginning", "-e", "-q")
	if err != nil {
		t.Fatalf("consume: %v\n%s", err, stderr)
	}
	if out != in.String() {
		t.Fatalf("consumed %q, want the 100 lines produced", out)
	}
}

// librdkafka through kcat over SASL_SSL with PLAIN, checking the broker's
// certificate against the test CA.
func TestKcatSASLSSLPlain(t *testing.T) {
	kcat := needTool(t, "kcat")
	p := newPKI(t)
	b := tlsBroker(t, p, "none", listener("SASL_SSL", "SASL_SSL"))
	topic := topicName(t, "kcat-sasl-ssl")
	createTopic(t, kadm.NewClient(newClient(t, b.Addr(), dialTLS(p, nil), plainAuth(plainUser, plainPass))), topic, 1, nil)
	kcatRoundTrip(t, kcat, b.Addr(), topic, []string{"security.protocol=SASL_SSL", "ssl.ca.location=" + p.truststore,
		"sasl.mechanisms=PLAIN", "sasl.username=" + plainUser, "sasl.password=" + plainPass})
	if !strings.Contains(b.Log.String(), "principal=User:admin by=SASL") {
		t.Fatalf("no log of admin's principal:\n%s", b.Log)
	}
}

// saslSSLConf is librdkafka's configuration for SASL_SSL against p's CA.
func saslSSLConf(p pki, mech, user, pass string) []string {
	return []string{"security.protocol=SASL_SSL", "ssl.ca.location=" + p.truststore,
		"sasl.mechanisms=" + mech, "sasl.username=" + user, "sasl.password=" + pass}
}

// librdkafka through kcat over SASL_SSL with SCRAM-SHA-512, and once with
// SCRAM-SHA-256: 100 lines produced with acks=all and consumed back in
// order. librdkafka's client-final message repeats the client nonce in
// front of the server's, which Sluice accepts as Kafka does
// (internal/sasl, prefixedFinal). A wrong password and an unknown user are
// refused alike with librdkafka's authentication error carrying the
// broker's one message.
func TestKcatSASLSSLScram(t *testing.T) {
	kcat := needTool(t, "kcat")
	p := newPKI(t)
	b := tlsBroker(t, p, "none", listener("SASL_SSL", "SASL_SSL"))
	adm := kadm.NewClient(newClient(t, b.Addr(), dialTLS(p, nil), plainAuth(plainUser, plainPass)))
	topics := map[string]string{}
	for _, mech := range []string{"SCRAM-SHA-512", "SCRAM-SHA-256"} {
		user := "kcat-" + strings.ToLower(mech)
		createScramUser(t, adm, mech, user, "pw-"+mech)
		topics[mech] = topicName(t, "kcat-"+strings.ToLower(mech))
		createTopic(t, adm, topics[mech], 1, nil)
		kcatRoundTrip(t, kcat, b.Addr(), topics[mech], saslSSLConf(p, mech, user, "pw-"+mech))
		if !strings.Contains(b.Log.String(), "principal=User:"+user+" by=SASL") {
			t.Fatalf("no log of %s's principal:\n%s", user, b.Log)
		}
	}

	// Refused producers: kcat ends at librdkafka's authentication failure,
	// and nothing more is in the topic than the 100 lines.
	want := "% ERROR: Local: Authentication failure: sasl_ssl://" + b.Addr() + "/bootstrap: SASL authentication error: " +
		"authentication failed: invalid credentials for SASL mechanism SCRAM-SHA-512 (after "
	topic := topics["SCRAM-SHA-512"]
	for _, who := range [][2]string{{"kcat-scram-sha-512", "pw-SCRAM-SHA-256"}, {"nobody", "pw-SCRAM-SHA-512"}} {
		_, stderr, err := kcatRun(t, kcat, b.Addr(), saslSSLConf(p, "SCRAM-SHA-512", who[0], who[1]), []byte("refused\n"), "-P", "-t", topic)
		if err == nil {
			t.Fatalf("%s/%s: produced", who[0], who[1])
		}
		if !strings.Contains(stderr, want) {
			t.Fatalf("%s/%s: kcat said, without %q:\n%s", who[0], who[1], want, stderr)
		}
	}
	if end := endOffset(t, adm, topic); end != 100 {
		t.Fatalf("%s ends at %d, want 100", topic, end)
	}
}

// librdkafka through kcat over SSL with a client certificate
// (ssl.client.auth=required); kcat in plaintext on the same port gets
// librdkafka's hint that the listener may be SSL.
func TestKcatSSL(t *testing.T) {
	kcat := needTool(t, "kcat")
	p := newPKI(t)
	b := tlsBroker(t, p, "required", listener("SSL", "SSL"))
	bob := p.ca.Client(t, pkix.Name{CommonName: "bob", Organization: []string{"Sluice tests"}})
	cert := tlstest.Write(t, p.dir, "bob.crt", bob.CertPEM)
	key := tlstest.Write(t, p.dir, "bob.key", bob.KeyPEM)
	topic := topicName(t, "kcat-ssl")
	createTopic(t, kadm.NewClient(newClient(t, b.Addr(), dialTLS(p, &bob.TLS))), topic, 1, nil)
	kcatRoundTrip(t, kcat, b.Addr(), topic, []string{"security.protocol=SSL", "ssl.ca.location=" + p.truststore,
		"ssl.certificate.location=" + cert, "ssl.key.location=" + key})
	if !strings.Contains(b.Log.String(), `principal="User:CN=bob,O=Sluice tests"`) {
		t.Fatalf("no log of bob's principal:\n%s", b.Log)
	}

	_, stderr, err := kcatRun(t, kcat, b.Addr(), nil, nil, "-L", "-m", "5")
	if err == nil {
		t.Fatal("plaintext kcat listed metadata on an SSL listener")
	}
	if !strings.Contains(stderr, "connecting to a SSL listener?") {
		t.Fatalf("plaintext kcat on an SSL listener said:\n%s", stderr)
	}
}
