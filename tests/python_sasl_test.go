package tests

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// pyError is a librdkafka error as confluent-kafka hands it to Python.
type pyError struct {
	Code int    `json:"code"`
	Name string `json:"name"`
	Str  string `json:"str"`
}

// pySASLClient runs tests/testdata/sasl_client.py in mode against addr
// over SASL_SSL and returns what it printed.
func pySASLClient(t *testing.T, py, addr string, p pki, mode, mech, user, pass, topic, n string) (out []byte, err error) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "testdata", "sasl_client.py")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, script, mode, addr, p.truststore, mech, user, pass, topic, n)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		t.Logf("sasl_client.py %s: %v\nstderr: %s", mode, err, stderr.String())
	}
	return out, err
}

// confluent-kafka-python (librdkafka) over SASL_SSL with SCRAM-SHA-512,
// whose final message Sluice accepts as Kafka does (internal/sasl,
// prefixedFinal): 100 records produced with acks=all, each delivered, and
// consumed back in order. A wrong password and an unknown user get
// librdkafka's _AUTHENTICATION error carrying the broker's one message,
// and nothing of theirs reaches the topic.
func TestPythonSASLSSLScram(t *testing.T) {
	py := semNeedPythonKafka(t)
	p := newPKI(t)
	b := tlsBroker(t, p, "none", listener("SASL_SSL", "SASL_SSL"))
	adm := kadm.NewClient(newClient(t, b.Addr(), dialTLS(p, nil), plainAuth(plainUser, plainPass)))
	createScramUser(t, adm, "SCRAM-SHA-512", "py-user", "py-secret")
	topic := topicName(t, "py-scram")
	createTopic(t, adm, topic, 1, nil)

	out, err := pySASLClient(t, py, b.Addr(), p, "roundtrip", "SCRAM-SHA-512", "py-user", "py-secret", topic, "100")
	var rt struct {
		Delivered, Consumed []int
		Errors              []pyError
	}
	if jerr := json.Unmarshal(out, &rt); jerr != nil || err != nil {
		t.Fatalf("roundtrip: %v, %v: %s", err, jerr, out)
	}
	want := make([]int, 100)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(rt.Delivered, want) || !slices.Equal(rt.Consumed, want) || len(rt.Errors) != 0 {
		t.Fatalf("roundtrip: %s", out)
	}
	if !strings.Contains(b.Log.String(), "principal=User:py-user by=SASL") {
		t.Fatalf("no log of py-user's principal:\n%s", b.Log)
	}

	prefix := "sasl_ssl://" + b.Addr() + "/bootstrap: SASL authentication error: authentication failed: invalid credentials for SASL mechanism SCRAM-SHA-512 (after "
	after := regexp.MustCompile(`^[0-9]+ms in state AUTH_REQ\)$`)
	for _, who := range [][2]string{{"py-user", "wrong"}, {"nobody", "py-secret"}} {
		out, err := pySASLClient(t, py, b.Addr(), p, "refused", "SCRAM-SHA-512", who[0], who[1], topic, "1")
		var r struct {
			Errors    []pyError
			Delivered int
		}
		if jerr := json.Unmarshal(out, &r); jerr != nil || err != nil {
			t.Fatalf("%s/%s: %v, %v: %s", who[0], who[1], err, jerr, out)
		}
		if len(r.Errors) == 0 || r.Delivered != 0 {
			t.Fatalf("%s/%s: %s", who[0], who[1], out)
		}
		e := r.Errors[0]
		rest, ok := strings.CutPrefix(e.Str, prefix)
		if e.Code != -169 || e.Name != "_AUTHENTICATION" || !ok || !after.MatchString(rest) {
			t.Fatalf("%s/%s: first error %+v, want -169 _AUTHENTICATION %q...", who[0], who[1], e, prefix)
		}
	}
	if end := endOffset(t, adm, topic); end != 100 {
		t.Fatalf("%s ends at %d, want 100", topic, end)
	}
}
