package cli

// `sluice txn list`.

import (
	"context"
	"fmt"
	"github.com/twmb/franz-go/pkg/kgo"
	"io"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
)

func runTxnList(args []string, stdout, stderr io.Writer) int {
	const name = "txn list"
	fs, c := newClientFlags(name, name+" [--state Ongoing,...]", stderr)
	stateFlag := fs.String("state", "", "only transactional ids in these states, comma-separated: "+strings.Join(txnStates, ", "))
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return cmdUsageError(stderr, name, "unexpected arguments %q", pos)
	}
	states, err := parseChoices(*stateFlag, txnStates)
	if err != nil {
		return cmdUsageError(stderr, name, "--state: %v", err)
	}
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		txns, err := adm.ListTransactions(ctx, nil, states)
		if err == nil {
			printTxnList(stdout, txns.Sorted())
		}
		return err
	})
}

func printTxnList(w io.Writer, txns []kadm.ListedTransaction) {
	if len(txns) == 0 {
		fmt.Fprintln(w, "No transactional ids.")
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "TRANSACTIONAL-ID\tSTATE\tPRODUCER-ID\tCOORDINATOR")
	for _, t := range txns {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", t.TxnID, t.State, t.ProducerID, t.Coordinator)
	}
	tw.Flush()
}
