package cli

// `sluice user scram set`, `delete` and `list`.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The iteration counts Kafka accepts (and Sluice, and kadm checks).
const (
	minScramIterations     = 4096
	maxScramIterations     = 16384
	defaultScramIterations = 8192
)

// parseMechanism reads --mechanism in any case.
func parseMechanism(m string) (kadm.ScramMechanism, error) {
	switch strings.ToUpper(m) {
	case "SCRAM-SHA-256":
		return kadm.ScramSha256, nil
	case "SCRAM-SHA-512":
		return kadm.ScramSha512, nil
	case "":
		return 0, errors.New("--mechanism is required: SCRAM-SHA-256 or SCRAM-SHA-512")
	}
	return 0, fmt.Errorf("--mechanism %q: want SCRAM-SHA-256 or SCRAM-SHA-512", m)
}

// scramTarget is the --user and --mechanism of set and delete.
type scramTarget struct {
	user, mech string
	m          kadm.ScramMechanism
}

func (s *scramTarget) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&s.user, "user", "", "the user (required)")
	fs.StringVar(&s.mech, "mechanism", "", "SCRAM-SHA-256 or SCRAM-SHA-512 (required)")
}

// check refuses positional arguments and a missing user, and parses the
// mechanism.
func (s *scramTarget) check(pos []string) error {
	if len(pos) > 0 {
		return fmt.Errorf("unexpected arguments %q (name the user with --user; a password is never an argument)", pos)
	}
	if s.user == "" {
		return errors.New("--user is required")
	}
	var err error
	s.m, err = parseMechanism(s.mech)
	return err
}

func runScramSet(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "user scram set"
	fs, c := newClientFlags(name, name+" --user NAME --mechanism SCRAM-SHA-256|SCRAM-SHA-512 [--iterations N] [--password-file FILE] (else the password is stdin's first line)", stderr)
	var target scramTarget
	target.addFlags(fs)
	iterations := fs.Int("iterations", defaultScramIterations, fmt.Sprintf("PBKDF2 iterations, %d to %d", minScramIterations, maxScramIterations))
	passwordFile := fs.String("password-file", "", "a file whose first line is the password (default: the first line of stdin)")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if err := target.check(pos); err != nil {
		return cmdUsageError(stderr, name, "%v", err)
	}
	if *iterations < minScramIterations || *iterations > maxScramIterations {
		return cmdUsageError(stderr, name, "--iterations %d: want %d to %d", *iterations, minScramIterations, maxScramIterations)
	}
	user, m := &target.user, target.m
	password, err := readNewPassword(*passwordFile, *user, stdin, stderr)
	if err != nil {
		return cmdUsageError(stderr, name, "%v", err)
	}
	upsert := kadm.UpsertSCRAM{User: *user, Mechanism: m, Iterations: int32(*iterations), Password: password}
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		rs, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{upsert})
		if err == nil {
			err = alteredErr(rs, *user, m)
		}
		if err == nil {
			fmt.Fprintf(stdout, "Set the %s credential of user %q (%d iterations).\n", m, *user, *iterations)
		}
		return err
	})
}

// readNewPassword is the first line of file, else of stdin. At a
// terminal it prompts on stderr first (what is typed shows: a password
// that must not, goes in a file).
func readNewPassword(file, user string, stdin io.Reader, stderr io.Writer) (string, error) {
	if file != "" {
		p, err := readPasswordFile(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		return p, nil
	}
	if f, ok := stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(stderr, "New password for %s (it shows as typed; Ctrl-D to give up): ", user)
		}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password: give it as the first line of stdin or in --password-file (never as an argument: ps would show it)")
	}
	return line, nil
}

// alteredErr is the error of user's change in rs, in words.
func alteredErr(rs kadm.AlteredUserSCRAMs, user string, m kadm.ScramMechanism) error {
	r, ok := rs[user]
	switch {
	case !ok:
		return fmt.Errorf("user %q: the broker's answer does not mention it", user)
	case errors.Is(r.Err, kerr.ResourceNotFound):
		return fmt.Errorf("user %q has no %s credential ('sluice user scram list' lists them)", user, m)
	case r.Err != nil:
		return fmt.Errorf("user %q: %w", user, advise(refusal(r.Err, r.ErrMessage)))
	}
	return nil
}

func runScramDelete(args []string, stdout, stderr io.Writer) int {
	const name = "user scram delete"
	fs, c := newClientFlags(name, name+" --user NAME --mechanism SCRAM-SHA-256|SCRAM-SHA-512", stderr)
	var target scramTarget
	target.addFlags(fs)
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if err := target.check(pos); err != nil {
		return cmdUsageError(stderr, name, "%v", err)
	}
	user, m := &target.user, target.m
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		rs, err := adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: *user, Mechanism: m}}, nil)
		if err == nil {
			err = alteredErr(rs, *user, m)
		}
		if err == nil {
			fmt.Fprintf(stdout, "Deleted the %s credential of user %q.\n", m, *user)
		}
		return err
	})
}

func runScramList(args []string, stdout, stderr io.Writer) int {
	const name = "user scram list"
	fs, c := newClientFlags(name, name+" [--user NAME]...", stderr)
	var users multiFlag
	fs.Var(&users, "user", "only this user; repeat for more (default: every user with a credential)")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return cmdUsageError(stderr, name, "unexpected arguments %q (name users with --user)", pos)
	}
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		ds, err := adm.DescribeUserSCRAMs(ctx, users...)
		if err != nil {
			return err
		}
		return printScrams(stdout, ds.Sorted())
	})
}

// printScrams prints a user's credentials a line each, and returns the
// errors of the users that have none or could not be described.
func printScrams(w io.Writer, ds []kadm.DescribedUserSCRAM) error {
	var errs []error
	tw := newTable(w)
	rows := 0
	for _, d := range ds {
		switch {
		case errors.Is(d.Err, kerr.ResourceNotFound):
			errs = append(errs, fmt.Errorf("user %q has no SCRAM credentials", d.User))
			continue
		case d.Err != nil:
			errs = append(errs, fmt.Errorf("user %q: %w", d.User, advise(refusal(d.Err, d.ErrMessage))))
			continue
		}
		slices.SortFunc(d.CredInfos, func(a, b kadm.CredInfo) int { return int(a.Mechanism) - int(b.Mechanism) })
		for _, ci := range d.CredInfos {
			if rows == 0 {
				fmt.Fprintln(tw, "USER\tMECHANISM\tITERATIONS")
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\n", d.User, ci.Mechanism, ci.Iterations)
			rows++
		}
	}
	tw.Flush()
	if rows == 0 && len(errs) == 0 {
		fmt.Fprintln(w, "No SCRAM credentials.")
	}
	return errors.Join(errs...)
}
