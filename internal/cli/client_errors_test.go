package cli

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// The commands speak only the Kafka protocol, so they are tried against
// franz-go's in-memory Kafka as well: here one that checks ACLs and has
// none for an unauthenticated client, which is how a person meets an
// authorization failure (testdata/acl.txt meets Sluice's own).
func TestClientCommandsReportAuthorizationFailures(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableACLs(), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"topic", "describe", "orders"}, `sluice topic describe: topic "orders": ` + notAuthorized("TOPIC_AUTHORIZATION_FAILED")},
		{[]string{"topic", "create", "more"}, `sluice topic create: topic "more": ` + notAuthorized("TOPIC_AUTHORIZATION_FAILED")},
		{[]string{"txn", "describe", "loader"}, `sluice txn describe: transactional id "loader": ` + notAuthorized("TRANSACTIONAL_ID_AUTHORIZATION_FAILED")},
		{[]string{"produce", "--topic", "orders", "testdata/input/five.txt"}, `sluice produce: topic "orders": ` + notAuthorized("TOPIC_AUTHORIZATION_FAILED")},
		{[]string{"consume", "--topic", "orders", "--max", "1"}, `sluice consume: topic "orders": ` + notAuthorized("TOPIC_AUTHORIZATION_FAILED")},
	} {
		out, errOut, code := runCLI(append(tc.args, "--brokers", addr, "--timeout", "5s")...)
		if code != 1 || out != "" || errOut != tc.want+"\n" {
			t.Errorf("sluice %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), code, out, errOut)
		}
	}
}

func notAuthorized(code string) string {
	return "not authorized (" + code + "): ask the cluster's administrator for an ACL that allows this client to do it"
}

// Every client command says in one line that nothing answers, whatever it
// was about to do.
func TestClientCommandsReportAnUnreachableBroker(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"topic", "list"},
		{"topic", "describe", "orders"},
		{"txn", "list"},
		{"txn", "abort", "loader"},
		{"produce", "--topic", "orders", "testdata/input/five.txt"},
		{"consume", "--topic", "orders", "--group", "app"},
		{"consume", "--topic", "orders", "--group", "app", "--guarantee", "exactly-once", "--to", "copy", "--transactional-id", "t"},
	} {
		// Nothing listens on port 1: the connection is refused at once.
		out, errOut, code := runCLI(append(args, "--brokers", "127.0.0.1:1")...)
		name := strings.Join(args[:2], " ")
		if args[0] == "produce" || args[0] == "consume" {
			name = args[0]
		}
		want := "sluice " + name + ": cannot reach 127.0.0.1:1 (is a broker running there?): "
		if code != 1 || out != "" || !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("sluice %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
		}
	}
}

func TestClientCommandsUsage(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"topic", "txn"} {
		out, _, code := runCLI(cmd)
		if code != 0 || !strings.HasPrefix(out, "Usage: sluice "+cmd+" <subcommand>") {
			t.Errorf("sluice %s: exit %d\n%s", cmd, code, out)
		}
		out, errOut, code := runCLI(cmd, "bogus")
		if code != 2 || out != "" || !strings.HasPrefix(errOut, "sluice "+cmd+`: unknown subcommand "bogus"`) {
			t.Errorf("sluice %s bogus: exit %d\nstdout:\n%s\nstderr:\n%s", cmd, code, out, errOut)
		}
	}
	out, _, _ := runCLI()
	for _, line := range []string{
		"  topic    create, list, describe, alter and delete topics",
		"  txn      list and describe transactions, abort one that hangs",
		"  produce  write records from lines of files or stdin, with a chosen delivery guarantee",
		"  consume  print a topic's records or copy them exactly once, with a chosen delivery guarantee",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("sluice usage lacks %q:\n%s", line, out)
		}
	}
}
