package cli

// `sluice txn`: transactions as the coordinators and partition leaders
// report them, and the two ways to end one that holds read_committed
// consumers back. Like `sluice group`, it speaks only the Kafka protocol.

import (
	"io"
)

const txnUsageText = `Usage: sluice txn <subcommand> [flags]

Inspect transactions and abort one that hangs.

Subcommands:
  list                list transactional ids with their state and producer id
  describe            show a transactional id's state, timeout and partitions
  describe-producers  show the producers writing to a topic's partitions and
                      the offset where each one's open transaction began
  abort               abort a transaction: through its coordinator, by
                      transactional id, or with a marker written straight to a
                      partition, for a transaction its coordinator has lost

An open transaction holds read_committed consumers at its first offset (the
partition's last stable offset; see 'sluice topic describe') until it is
committed, aborted, or aborted by the coordinator after its timeout.

Examples:
  sluice txn list --state Ongoing
  sluice txn describe orders-loader
  sluice txn abort orders-loader
  sluice txn describe-producers --topic orders
  sluice txn abort --topic orders --partition 0 --producer-id 4000

Every subcommand takes --brokers host:port[,host:port] (default: $SLUICE_BROKERS,
else 127.0.0.1:9092), --timeout, and the SASL and TLS flags (--sasl-mechanism,
--ssl-ca-location, ...). Run 'sluice txn <subcommand> -h' for its flags.
`

var txnCommands = subcommands{
	"list":               runTxnList,
	"describe":           runTxnDescribe,
	"describe-producers": runTxnDescribeProducers,
	"abort":              runTxnAbort,
}

func runTxn(args []string, stdout, stderr io.Writer) int {
	return dispatch("txn", txnUsageText, txnCommands, args, stdout, stderr)
}

// txnStates are the states of a transactional id, as coordinators spell
// them in ListTransactions and DescribeTransactions.
var txnStates = []string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}
