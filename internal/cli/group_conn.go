package cli

// The flags and connection every `sluice group` subcommand shares.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// conn holds the flags every subcommand shares.
type conn struct {
	brokers string
	timeout time.Duration
	sec     security
}

// newGroupFlags makes a subcommand's flag set with the shared flags. synopsis
// is the first usage line, for example "describe GROUP".
func newGroupFlags(name, synopsis string, stderr io.Writer) (*flag.FlagSet, *conn) {
	return newClientFlags("group "+name, "group "+synopsis+" [flags]", stderr)
}

// parseArgs parses flags wherever they stand among the positional
// arguments, so "describe GROUP --brokers x" works as well as
// "describe --brokers x GROUP": the flag package alone stops at the first
// positional argument. Everything after "--" is positional. ok is false when
// the command must stop with code (0 after -h, 2 after a bad flag).
func parseArgs(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0, false
			}
			return nil, 2, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a mistake in the command line: exit code 2.
func usageError(stderr io.Writer, sub, format string, a ...any) int {
	fmt.Fprintf(stderr, "sluice group %s: %s\nRun 'sluice group %s -h' for usage.\n", sub, fmt.Sprintf(format, a...), sub)
	return 2
}

// failure reports something that went wrong talking to the brokers or that
// they refused: exit code 1 (2 for a *flagError, as cmdFailure).
func failure(stderr io.Writer, sub string, err error) int {
	if fe, ok := errors.AsType[*flagError](err); ok {
		return usageError(stderr, sub, "%v", fe)
	}
	fmt.Fprintf(stderr, "sluice group %s: %v\n", sub, err)
	return 1
}

// admin connects to the brokers; see adminAs.
func (c *conn) admin() (*kadm.Client, context.Context, func(), error) {
	return c.adminAs("sluice-group")
}

// explain turns a refused connection or a deadline into something a person
// can act on; kadm's own wording ("request ListGroups has 1 separate shard
// errors, first: ...") speaks of its internals.
func (c *conn) explain(ctx context.Context, err error) error {
	if login := c.sec.loginErr(err); login != nil {
		return login
	}
	if op, ok := errors.AsType[*net.OpError](err); ok {
		return fmt.Errorf("cannot reach %s (is a broker running there?): %w", c.brokers, op)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("no answer from %s within %v: %w", c.brokers, c.timeout, err)
	}
	return err
}

// withMessage appends the broker's free-text error message, when it sent one.
func withMessage(err error, msg string) error {
	if err == nil || msg == "" {
		return err
	}
	return fmt.Errorf("%w (%s)", err, msg)
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// dash prints "-" for the absent values the protocol marks with -1.
func dash(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
