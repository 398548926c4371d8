package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
)

// What `sluice acl create` stores is what the broker decides by: alice's
// produce, made with plain franz-go, is refused, allowed once the command
// created an ACL, and refused again once `sluice acl delete` removed it.
func TestACLCommandTakesEffect(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) {
		c.SecurityProtocol = broker.SASLPlaintext
		c.SASLMechanisms = []string{"PLAIN"}
		c.SASLPlainUsers = map[string]string{"admin": "admin-secret", "alice": "alice-secret"}
		c.Authorizer = true
		c.SuperUsers = []string{"User:admin"}
	}))
	pass := filepath.Join(t.TempDir(), "admin.password")
	cli := func(args ...string) {
		t.Helper()
		args = append(args, "--brokers", b.Addr(), "--sasl-mechanism", "PLAIN", "--sasl-username", "admin", "--sasl-password-file", pass)
		if out, errOut, code := runCLI(args...); code != 0 {
			t.Fatalf("sluice %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	writeTestFile(t, pass, "admin-secret\n")
	cli("topic", "create", "orders", "--partitions", "1")

	alice := brokertest.Client(t, b.Addr(), kgo.SASL(plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism()),
		kgo.DefaultProduceTopic("orders"), kgo.DisableIdempotentWrite(), kgo.RetryTimeout(5*time.Second))
	produce := func() error {
		return alice.ProduceSync(brokertest.Context(t, 10*time.Second), &kgo.Record{Value: []byte("x")}).FirstErr()
	}
	if err := produce(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("produce before the ACL: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	cli("acl", "create", "--allow-principal", "User:alice", "--operation", "write", "--topic", "ord", "--resource-pattern-type", "prefixed")
	if err := produce(); err != nil {
		t.Fatalf("produce with the ACL: %v", err)
	}
	cli("acl", "delete", "--principal", "User:alice", "--topic", "ord", "--resource-pattern-type", "prefixed")
	if err := produce(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("produce after the ACL was deleted: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
}

func writeTestFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
