package cli

import (
	"crypto/x509/pkix"
	"path/filepath"
	"strings"
	"testing"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/tlsconf"
	"sluice/internal/tlstest"
)

// The client commands over TLS: SASL_SSL with the CA given, the protocol
// inferred from the flags, a broker certificate the client does not trust,
// and an SSL listener that requires a client certificate.
func TestClientSecurityFlagsOverTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Sluice CLI test CA")
	keystore := tlstest.Write(t, dir, "broker.pem", ca.Server(t, "broker").PEM)
	caFile := tlstest.Write(t, dir, "ca.pem", ca.PEM)
	client := ca.Client(t, pkix.Name{CommonName: "ops"})
	certFile := tlstest.Write(t, dir, "client.crt", client.CertPEM)
	keyFile := tlstest.Write(t, dir, "client.key", client.KeyPEM)
	passFile := tlstest.Write(t, dir, "admin.password", []byte("admin-secret\n"))
	start := func(protocol, clientAuth string) string {
		return brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) {
			c.SecurityProtocol = protocol
			c.TLS = tlsconf.Config{Keystore: keystore, Truststore: caFile, ClientAuth: clientAuth}
			c.SASLMechanisms = []string{"PLAIN"}
			c.SASLPlainUsers = map[string]string{"admin": "admin-secret"}
		})).Addr()
	}
	saslSSL, ssl := start(broker.SASLSSL, "none"), start(broker.SSL, "required")
	login := []string{"--sasl-mechanism", "PLAIN", "--sasl-username", "admin", "--sasl-password-file", passFile}
	for _, tc := range []struct {
		args       []string
		code       int
		wantOutput string
	}{
		{append([]string{"topic", "create", "secure", "--brokers", saslSSL, "--security-protocol", "SASL_SSL", "--ssl-ca-location", caFile}, login...),
			0, `Created topic "secure"`},
		{append([]string{"topic", "list", "--brokers", saslSSL, "--ssl-ca-location", caFile}, login...), 0, "secure"},
		{append([]string{"topic", "list", "--brokers", saslSSL, "--security-protocol", "SASL_SSL", "--timeout", "3s"}, login...),
			1, "certificate signed by unknown authority"},
		{[]string{"topic", "list", "--brokers", ssl, "--ssl-ca-location", caFile, "--ssl-certificate-location", certFile, "--ssl-key-location", keyFile},
			0, "No topics."},
		{[]string{"group", "list", "--brokers", ssl, "--ssl-ca-location", caFile, "--ssl-certificate-location", certFile}, 2,
			"sluice group list: --ssl-certificate-location and --ssl-key-location go together"},
	} {
		out, errOut, code := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.wantOutput) {
			t.Errorf("sluice %s: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), code, tc.code, tc.wantOutput, out, errOut)
		}
	}
}

// Mistakes in the security flags are usage errors (exit 2), found before
// any broker is asked.
func TestClientSecurityFlagErrors(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"acl", "list", "--sasl-mechanism", "MD5"}, `invalid value "MD5" for flag -sasl-mechanism: want one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`},
		{[]string{"topic", "list", "--security-protocol", "TLS"}, `invalid value "TLS" for flag -security-protocol: want one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL`},
		{[]string{"topic", "list", "--security-protocol", "sasl_plaintext"}, "sluice topic list: --security-protocol SASL_PLAINTEXT needs --sasl-mechanism"},
		{[]string{"acl", "list", "--sasl-mechanism", "PLAIN"}, "sluice acl list: --sasl-mechanism needs --sasl-username (or $SLUICE_SASL_USERNAME)"},
		{[]string{"user", "scram", "list", "--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", "a", "--sasl-password-file", missing},
			"sluice user scram list: open " + missing + ": no such file or directory"},
		{[]string{"produce", "--topic", "t", "--security-protocol", "PLAINTEXT", "--sasl-mechanism", "PLAIN"},
			"sluice produce: --sasl-mechanism needs --security-protocol SASL_PLAINTEXT or SASL_SSL, not PLAINTEXT"},
		{[]string{"consume", "--topic", "t", "--security-protocol", "SASL_PLAINTEXT", "--ssl-ca-location", missing},
			"sluice consume: --ssl- flags need --security-protocol SSL or SASL_SSL, not SASL_PLAINTEXT"},
		{[]string{"group", "list", "--ssl-ca-location", missing}, "sluice group list: open " + missing + ": no such file or directory"},
	} {
		_, errOut, code := runCLI(append(tc.args, "--brokers", "127.0.0.1:1")...)
		if first, _, _ := strings.Cut(errOut, "\n"); code != 2 || first != tc.want {
			t.Errorf("sluice %s: exit %d, stderr:\n%s\nwant exit 2 and %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}
