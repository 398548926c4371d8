package cli

// `sluice group`: consumer-group administration. It talks the Kafka
// protocol through franz-go's kadm and uses none of the broker's internal
// packages, so it works the same against Sluice and against any other
// Kafka-compatible broker, and it only ever sees what a client would see.

import (
	"io"
)

const groupUsageText = `Usage: sluice group <subcommand> [flags]

Inspect and manage consumer groups over the Kafka protocol.

Subcommands:
  list           list groups with their state and protocol type
  describe       show a group's members, committed offsets and lag
  delete         delete groups that have no members, with their offsets
  reset-offsets  move the committed offsets of a group that has no members

Examples:
  sluice group list --state Stable,Empty
  sluice group describe orders-app
  sluice group reset-offsets orders-app --topic orders --to-earliest --dry-run
  sluice group delete orders-app

Every subcommand takes --brokers host:port[,host:port] (default: $SLUICE_BROKERS,
else 127.0.0.1:9092), --timeout, and the SASL and TLS flags (--sasl-mechanism,
--ssl-ca-location, ...). Run 'sluice group <subcommand> -h' for its flags.
`

var groupCommands = subcommands{
	"list":          runGroupList,
	"describe":      runGroupDescribe,
	"delete":        runGroupDelete,
	"reset-offsets": runGroupResetOffsets,
}

// runGroup dispatches to a group subcommand.
func runGroup(args []string, stdout, stderr io.Writer) int {
	return dispatch("group", groupUsageText, groupCommands, args, stdout, stderr)
}

// groupStates are the classic group states, as brokers spell them in
// ListGroups and DescribeGroups.
var groupStates = []string{"PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty"}
