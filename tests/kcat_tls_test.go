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

// librdkafka through kcat over SASL_SSL with PLAIN (its SCRAM is not
// accepted yet; see TestKcatSASLPlain), checking the broker's certificate
// against the test CA.
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
