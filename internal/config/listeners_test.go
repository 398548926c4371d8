package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sluice/internal/broker"
	"sluice/internal/tlsconf"
	"sluice/internal/tlstest"
)

// listeners with custom names mapped to protocols, advertised per name,
// and the TLS files: the broker gets one Listener each, and the files'
// paths.
func TestBrokerListeners(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "ca")
	ks := tlstest.Write(t, dir, "broker.pem", ca.Server(t, "broker").PEM)
	ts := tlstest.Write(t, dir, "ca.pem", ca.PEM)
	c, errs := load(t, sources{file: "listeners=plaintext://127.0.0.1:9092, INTERNAL://:9094,SASL_SSL://0.0.0.0:9093\n" +
		"advertised.listeners=INTERNAL://broker.internal:9094,SASL_SSL://broker.example:443\n" +
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,internal:sasl_plaintext,SASL_SSL:SASL_SSL\n" +
		"ssl.keystore.location=" + ks + "\nssl.truststore.location=" + ts + "\nssl.client.auth=requested\n" +
		"sasl.enabled.mechanisms=SCRAM-SHA-256\n"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if v := c.Get("listeners").Value; v != "PLAINTEXT://127.0.0.1:9092,INTERNAL://:9094,SASL_SSL://0.0.0.0:9093" {
		t.Fatalf("listeners in canonical form: %q", v)
	}
	got := c.Broker()
	want := []broker.Listener{
		{Name: "PLAINTEXT", Protocol: "PLAINTEXT", Listen: "127.0.0.1:9092"},
		{Name: "INTERNAL", Protocol: "SASL_PLAINTEXT", Listen: ":9094", Advertise: "broker.internal:9094"},
		{Name: "SASL_SSL", Protocol: "SASL_SSL", Listen: "0.0.0.0:9093", Advertise: "broker.example:443"},
	}
	if !reflect.DeepEqual(got.Listeners, want) {
		t.Fatalf("listeners %+v\nwant      %+v", got.Listeners, want)
	}
	if wantTLS := (tlsconf.Config{Keystore: ks, Truststore: ts, ClientAuth: "requested"}); got.TLS != wantTLS {
		t.Fatalf("TLS %+v, want %+v", got.TLS, wantTLS)
	}

	// The shorthand: one listener named after its protocol.
	c, errs = load(t, sources{flags: []string{"--listen", ":9000", "--security-protocol", "ssl", "--ssl-keystore-location", ks,
		"--advertised-listeners", "SSL://h:1"}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if l := c.Broker().Listeners; !reflect.DeepEqual(l, []broker.Listener{{Name: "SSL", Protocol: "SSL", Listen: ":9000", Advertise: "h:1"}}) {
		t.Fatalf("shorthand listeners %+v", l)
	}
}

// Listener settings that cannot work are refused with the setting, the
// value, where it came from and why.
func TestListenerErrors(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "ca")
	ks := tlstest.Write(t, dir, "broker.pem", ca.Server(t, "broker").PEM)
	for _, tc := range []struct {
		file string
		want string
	}{
		{"listeners=127.0.0.1:9092\n", `listeners=127.0.0.1:9092 (sluice.properties:1): "127.0.0.1:9092" is not NAME://host:port`},
		{"listeners=PLAINTEXT://a:1,plaintext://b:2\n", "listener PLAINTEXT is listed twice"},
		{"listeners=IN-SIDE://a:1\n", `listener name "IN-SIDE"`},
		{"listeners=INTERNAL://:9094\n", "listener INTERNAL has no security protocol: name it after one (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL) or add INTERNAL:<protocol> to listener.security.protocol.map"},
		{"listeners=PLAINTEXT://:9094\nlisten=:9000\n", "listen=:9000 (sluice.properties:2): set together with listeners (sluice.properties:1)"},
		{"advertised.listeners=PLAINTEXT://:9094\n", "advertised.listeners=PLAINTEXT://:9094 (sluice.properties:1): listener PLAINTEXT: no host"},
		{"advertised.listeners=SSL://h:9094\n", "listener SSL is not one of the broker's listeners"},
		{"advertised.listeners=PLAINTEXT://h:9094\nadvertise=h:1\n", "advertise=h:1 (sluice.properties:2): set together with advertised.listeners"},
		{"listener.security.protocol.map=A:TLS\n", `listener A: "TLS" is not a security protocol`},
		{"listeners=SSL://:9093\n", "ssl.keystore.location= (default): not set, but a listener is SSL or SASL_SSL"},
		{"listener.security.protocol=SSL\nssl.keystore.location=" + ks + "\nssl.client.auth=required\n",
			"ssl.client.auth=required (sluice.properties:3): client certificates are asked for but ssl.truststore.location names no authorities"},
		{"ssl.keystore.location=" + filepath.Join(dir, "none.pem") + "\n", "no such file"},
		{"ssl.truststore.location=" + ks + "x\n", "no such file"},
		{"ssl.keystore.type=JKS\n", "must be one of PEM"},
		{"listeners=SASL_SSL://:9093\nssl.keystore.location=" + ks + "\nsasl.enabled.mechanisms=PLAIN\n", "PLAIN is enabled but sasl.plain.users.file names no users"},
	} {
		_, errs := load(t, sources{file: tc.file})
		if len(errs) != 1 || !strings.Contains(errs[0], tc.want) {
			t.Errorf("%q: %q, want one error saying %q", tc.file, errs, tc.want)
		}
	}
}

// ssl.client.auth asks SSL listeners only for certificates: with SASL_SSL
// listeners alone it needs no truststore.
func TestClientAuthOnSASLSSLOnly(t *testing.T) {
	dir := t.TempDir()
	ks := tlstest.Write(t, dir, "broker.pem", tlstest.NewCA(t, "ca").Server(t, "broker").PEM)
	_, errs := load(t, sources{file: "listener.security.protocol=SASL_SSL\nssl.keystore.location=" + ks + "\nssl.client.auth=required\n"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
}
