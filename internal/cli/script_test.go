package cli

// CLI sessions as scripts with golden output (testdata/*.txt, run by
// internal/scripttest; -update rewrites them). Each script runs against its
// own fresh broker. A line "sluice ARGS" runs the command in-process with
// --brokers set to that broker and is followed by what it printed: stdout,
// then stderr lines prefixed "stderr: ", then "exit N" when N is not 0.
// Values that differ from run to run are masked (see normalize), nothing
// else. "$WORK" is a directory the script may write files to; "< FILE" at
// the end of a sluice line is its stdin (else stdin is empty). A few lines
// are not sluice commands but set up or check what a command is about;
// they are the methods of cliScript named in run.
//
// The scripts of secureScript run against a broker with SASL and
// authorization on, and their sluice lines connect as its super user
// unless they give --sasl-username.

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/scripttest"
)

type cliScript struct {
	t    *testing.T
	addr string
	work string                 // $WORK in a script: a directory for its files
	txns map[string]*kgo.Client // by transactional id
	auth []string               // flags that connect as the super user, for secure scripts
}

func runScript(t *testing.T, file string) {
	t.Parallel()
	// A group's first join is not held back for more members: the
	// scripts' groups have one.
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) { c.GroupInitialRebalanceDelay = -1 }))
	s := &cliScript{t: t, addr: b.Addr(), work: t.TempDir(), txns: map[string]*kgo.Client{}}
	scripttest.Run(t, file, s.run)
}

// The users of secureScript's broker, with PLAIN passwords in its users
// file and in $WORK/USER.password: admin is the super user.
var plainUsers = map[string]string{"admin": "admin-secret", "alice": "alice-secret", "bob": "bob-secret"}

// secureScript runs a script against a broker on SASL_PLAINTEXT with
// PLAIN and both SCRAM mechanisms, and authorization on.
func secureScript(t *testing.T, file string) {
	t.Parallel()
	b := brokertest.Start(t, brokertest.WithConfig(func(c *broker.Config) {
		c.GroupInitialRebalanceDelay = -1
		c.SecurityProtocol = broker.SASLPlaintext
		c.SASLMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
		c.SASLPlainUsers = plainUsers
		c.Authorizer = true
		c.SuperUsers = []string{"User:admin"}
	}))
	s := &cliScript{t: t, addr: b.Addr(), work: t.TempDir(), txns: map[string]*kgo.Client{}}
	for user, pass := range plainUsers {
		s.writeFile(filepath.Join(s.work, user+".password"), pass+"\n")
	}
	s.auth = []string{"--sasl-mechanism", "PLAIN", "--sasl-username", "admin", "--sasl-password-file", filepath.Join(s.work, "admin.password")}
	scripttest.Run(t, file, s.run)
}

func (s *cliScript) writeFile(name, data string) {
	if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

func (s *cliScript) run(where, line string) []string {
	args := splitArgs(s.t, where, strings.ReplaceAll(line, "$WORK", s.work))
	switch args[0] {
	case "sluice":
		return s.sluice(args[1:])
	case "txn":
		return s.txn(where, args[1:])
	case "records":
		return s.records(where, args[1:])
	case "write":
		return s.write(where, args[1:])
	case "auth":
		return s.authenticate(where, args[1:])
	}
	s.t.Fatalf("%s: unknown script command %q", where, args[0])
	return nil
}

// sluice runs one command and renders what it printed. "> FILE" at the end
// writes its stdout to FILE instead; "< FILE" reads stdin from FILE.
func (s *cliScript) sluice(args []string) []string {
	var redirect string
	var stdin io.Reader = strings.NewReader("")
	if n := len(args); n >= 2 && args[n-2] == ">" {
		redirect, args = args[n-1], args[:n-2]
	}
	if n := len(args); n >= 2 && args[n-2] == "<" {
		f, err := os.Open(args[n-1])
		if err != nil {
			s.t.Fatal(err)
		}
		defer f.Close()
		stdin, args = f, args[:n-2]
	}
	args = append(args, "--brokers", s.addr)
	if !slices.Contains(args, "--sasl-username") {
		args = append(args, s.auth...)
	}
	stdout, stderr, code := runCLIIn(stdin, args...)
	if redirect != "" {
		if err := os.WriteFile(redirect, []byte(stdout), 0o644); err != nil {
			s.t.Fatal(err)
		}
		stdout = ""
	}
	var out []string
	for _, l := range lines(stdout) {
		out = append(out, s.normalize(l))
	}
	for _, l := range lines(stderr) {
		out = append(out, s.normalize("stderr: "+l))
	}
	if code != 0 {
		out = append(out, "exit "+strconv.Itoa(code))
	}
	return out
}

var (
	rfc3339Re  = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	topicIDRe  = regexp.MustCompile(`^(Topic ID:\s+)\S+$`)
	durationRe = regexp.MustCompile(`in [0-9.]+(ns|µs|ms|s|m)( \([^)]*/s[^)]*\))?`)
)

// normalize masks what changes from run to run: the broker's address, the
// work directory, wall clock times, topic ids, and the elapsed time and
// rates in summaries.
func (s *cliScript) normalize(l string) string {
	l = strings.ReplaceAll(l, s.addr, "BROKER")
	l = strings.ReplaceAll(l, s.work, "$WORK")
	l = rfc3339Re.ReplaceAllString(l, "TIME")
	l = topicIDRe.ReplaceAllString(l, "${1}ID")
	l = durationRe.ReplaceAllString(l, "in ELAPSED")
	return strings.TrimSpace(l)
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// splitArgs splits a script line on spaces; single quotes keep spaces and
// double quotes inside an argument ('{"key": "a"}').
func splitArgs(t *testing.T, where, line string) []string {
	var args []string
	var cur strings.Builder
	quoted, inArg := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, inArg = !quoted, true
		case r == ' ' && !quoted:
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quoted {
		t.Fatalf("%s: unterminated quote", where)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}

func TestTopicScript(t *testing.T)   { runScript(t, "testdata/topic.txt") }
func TestTxnScript(t *testing.T)     { runScript(t, "testdata/txn.txt") }
func TestProduceScript(t *testing.T) { runScript(t, "testdata/produce.txt") }
func TestConsumeScript(t *testing.T) { runScript(t, "testdata/consume.txt") }
func TestACLScript(t *testing.T)     { secureScript(t, "testdata/acl.txt") }
func TestUserScript(t *testing.T)    { secureScript(t, "testdata/user.txt") }
