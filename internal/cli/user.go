package cli

// `sluice user`: users' SCRAM credentials through franz-go's kadm
// (DescribeUserScramCredentials and AlterUserScramCredentials, KIP-554),
// for any Kafka-compatible broker. kadm salts and hashes the password on
// the client: the broker receives the salt, the iteration count and the
// salted password, never the password.

import (
	"io"
)

const userUsageText = `Usage: sluice user scram <set|delete|list> [flags]

Set, list and delete the SCRAM credentials (SCRAM-SHA-256, SCRAM-SHA-512)
that users authenticate with.

Subcommands:
  scram set     set a user's password for a mechanism, creating the user;
                the password is read as one line from stdin or from
                --password-file, never from a flag
  scram delete  delete a user's credential for a mechanism
  scram list    list users with their mechanisms and iteration counts
                (never salts or keys)

Examples:
  sluice user scram set --user alice --mechanism SCRAM-SHA-512 --password-file alice.pass
  printf '%s\n' "$PASSWORD" | sluice user scram set --user alice --mechanism SCRAM-SHA-256
  sluice user scram list
  sluice user scram delete --user alice --mechanism SCRAM-SHA-256

A broker with authorization on answers these only to a principal with
ALTER (set, delete) or DESCRIBE (list) on the cluster, such as a super
user. Every subcommand takes --brokers host:port[,host:port] (default:
$SLUICE_BROKERS, else 127.0.0.1:9092), --timeout, and the SASL and TLS
flags. Run 'sluice user scram <subcommand> -h' for its flags.
`

func runUser(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return dispatch("user", userUsageText, subcommands{
		"scram": func(args []string, stdout, stderr io.Writer) int {
			return dispatch("user scram", userUsageText, subcommands{
				"set":    func(args []string, stdout, stderr io.Writer) int { return runScramSet(args, stdin, stdout, stderr) },
				"delete": runScramDelete,
				"list":   runScramList,
			}, args, stdout, stderr)
		},
	}, args, stdout, stderr)
}
