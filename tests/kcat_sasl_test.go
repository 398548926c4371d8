package tests

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// librdkafka through kcat over SASL_PLAINTEXT with PLAIN: 100 lines
// produced with acks=all and consumed back in order; a wrong password and
// an unknown user are refused with librdkafka's authentication error and
// the broker's one message. (SCRAM with librdkafka: TestKcatSASLSSLScram.)
func TestKcatSASLPlain(t *testing.T) {
	kcat := needTool(t, "kcat")
	b := saslBroker(t)
	adm := kadm.NewClient(newClient(t, b.Addr(), plainAuth(plainUser, plainPass)))
	topic := topicName(t, "kcat-sasl")
	createTopic(t, adm, topic, 1, nil)

	run := func(user, pass string, stdin []byte, args ...string) (string, string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		base := []string{"-b", b.Addr(), "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
			"-X", "sasl.username=" + user, "-X", "sasl.password=" + pass}
		cmd := exec.CommandContext(ctx, kcat, append(base, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String(), errOut.String(), err
	}

	var in bytes.Buffer
	for i := 0; i < 100; i++ {
		fmt.Fprintln(&in, i)
	}
	if _, stderr, err := run(plainUser, plainPass, in.Bytes(), "-P", "-t", topic, "-X", "acks=all"); err != nil {
		t.Fatalf("produce: %v\n%s", err, stderr)
	}
	out, stderr, err := run(plainUser, plainPass, nil, "-C", "-t", topic, "-o", "beginning", "-e", "-q")
	if err != nil {
		t.Fatalf("consume: %v\n%s", err, stderr)
	}
	if out != in.String() {
		t.Fatalf("consumed %d bytes, want the %d produced", len(out), in.Len())
	}

	var msgs []string
	for _, who := range [][2]string{{plainUser, "wrong"}, {"nobody", "wrong"}} {
		_, stderr, err := run(who[0], who[1], nil, "-L", "-m", "5")
		if err == nil {
			t.Fatalf("%s/%s: metadata listed", who[0], who[1])
		}
		i := strings.Index(stderr, "SASL authentication error: ")
		if i < 0 {
			t.Fatalf("%s/%s: no SASL authentication error:\n%s", who[0], who[1], stderr)
		}
		msg, _, _ := strings.Cut(stderr[i:], " (after")
		msgs = append(msgs, msg)
	}
	if msgs[0] != msgs[1] || !strings.Contains(msgs[0], "PLAIN") {
		t.Fatalf("a wrong password says %q, an unknown user %q", msgs[0], msgs[1])
	}
}
