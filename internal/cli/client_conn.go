package cli

// The flags and connection every client command shares (group, topic, txn,
// acl, user, produce, consume): a bootstrap list, a timeout, SASL and TLS
// (client_security.go), and franz-go clients built from them. None of these commands imports a broker package, so
// they work against any Kafka-compatible broker.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultBrokers is $SLUICE_BROKERS, else the address `sluice serve`
// listens on by default.
func defaultBrokers() string {
	if b := os.Getenv("SLUICE_BROKERS"); b != "" {
		return b
	}
	return "127.0.0.1:9092"
}

// newClientFlags makes a command's flag set with the shared flags. name is
// the command as typed after "sluice" ("topic create"); synopsis is the
// first usage line without "sluice" ("topic create TOPIC [flags]").
func newClientFlags(name, synopsis string, stderr io.Writer) (*flag.FlagSet, *conn) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sluice %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	c := &conn{}
	fs.StringVar(&c.brokers, "brokers", defaultBrokers(), "host:port[,host:port] to bootstrap from (env SLUICE_BROKERS)")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "give up if the brokers have not answered within this long")
	c.sec.addFlags(fs)
	return fs, c
}

// seeds splits --brokers.
func (c *conn) seeds() ([]string, error) {
	var seeds []string
	for s := range strings.SplitSeq(c.brokers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		return nil, errors.New("--brokers is empty")
	}
	return seeds, nil
}

// clientOpts are the options of a client of the brokers followed by opts;
// clientID names the command in the brokers' logs and in `sluice group
// describe`.
func (c *conn) clientOpts(clientID string, opts ...kgo.Opt) ([]kgo.Opt, error) {
	seeds, err := c.seeds()
	if err != nil {
		return nil, err
	}
	sec, err := c.sec.opts()
	if err != nil {
		return nil, err
	}
	base := append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.ClientID(clientID)}, sec...)
	return append(base, opts...), nil
}

// client makes a franz-go client with clientOpts.
func (c *conn) client(clientID string, opts ...kgo.Opt) (*kgo.Client, error) {
	all, err := c.clientOpts(clientID, opts...)
	if err != nil {
		return nil, err
	}
	return kgo.NewClient(all...)
}

// connect makes a client and a context that bounds the whole command:
// franz-go retries an unreachable broker until its context ends, and a
// person at a terminal would rather get an error than a hang.
func (c *conn) connect(clientID string) (*kgo.Client, context.Context, func(), error) {
	cl, err := c.client(clientID)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	return cl, ctx, func() { cancel(); cl.Close() }, nil
}

// adminAs is connect for kadm.
func (c *conn) adminAs(clientID string) (*kadm.Client, context.Context, func(), error) {
	cl, ctx, done, err := c.connect(clientID)
	if err != nil {
		return nil, nil, nil, err
	}
	return kadm.NewClient(cl), ctx, done, nil
}

// cmdUsageError reports a mistake in the command line: exit code 2.
func cmdUsageError(stderr io.Writer, name, format string, a ...any) int {
	fmt.Fprintf(stderr, "sluice %s: %s\nRun 'sluice %s -h' for usage.\n", name, fmt.Sprintf(format, a...), name)
	return 2
}

// cmdFailure reports something that went wrong talking to the brokers or
// that they refused, each error of a joined one on its own line: exit
// code 1. A *flagError, found only when the client is made, is a usage
// error.
func cmdFailure(stderr io.Writer, name string, err error) int {
	if fe, ok := errors.AsType[*flagError](err); ok {
		return cmdUsageError(stderr, name, "%v", fe)
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		fmt.Fprintf(stderr, "sluice %s: %v\n", name, e)
	}
	return 1
}

// runAdmin is what an admin command does once its command line is parsed:
// connect (as "sluice-" and the command's first word), run fn within
// --timeout, and report its error.
func (c *conn) runAdmin(name string, stderr io.Writer, fn func(ctx context.Context, cl *kgo.Client, adm *kadm.Client) error) int {
	cl, ctx, done, err := c.connect("sluice-" + strings.Fields(name)[0])
	if err != nil {
		return cmdFailure(stderr, name, err)
	}
	defer done()
	if err := fn(ctx, cl, kadm.NewClient(cl)); err != nil {
		return cmdFailure(stderr, name, c.explainErr(ctx, err))
	}
	return 0
}

// eachName goes through a per-name answer (created topics, deleted groups)
// in the order the names were given: ok for each that succeeded, and the
// errors of the others, joined.
func eachName(names []string, what string, result func(name string) (found bool, err error), ok func(name string)) error {
	var errs []error
	for _, n := range names {
		found, err := result(n)
		switch {
		case !found:
			errs = append(errs, fmt.Errorf("%s %q: the broker's answer does not mention it", what, n))
		case err != nil:
			errs = append(errs, err)
		default:
			ok(n)
		}
	}
	return errors.Join(errs...)
}

// multiFlag is a flag that may be given more than once (--config a=1
// --config b=2).
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }
