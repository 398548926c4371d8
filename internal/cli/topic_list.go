package cli

// `sluice topic list`.

import (
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kadm"
)

func runTopicList(args []string, stdout, stderr io.Writer) int {
	const name = "topic list"
	fs, c := newClientFlags(name, name+" [--internal]", stderr)
	internal := fs.Bool("internal", false, "include internal topics (__consumer_offsets, __transaction_state)")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return cmdUsageError(stderr, name, "unexpected arguments %q", pos)
	}
	adm, ctx, done, err := c.adminAs("sluice-topic")
	if err != nil {
		return cmdFailure(stderr, name, err)
	}
	defer done()
	list := adm.ListTopics
	if *internal {
		list = adm.ListTopicsWithInternal
	}
	ds, err := list(ctx)
	if err != nil {
		return cmdFailure(stderr, name, c.explainErr(ctx, err))
	}
	printTopicList(stdout, ds.Sorted())
	return 0
}

func printTopicList(w io.Writer, ds []kadm.TopicDetail) {
	if len(ds) == 0 {
		fmt.Fprintln(w, "No topics.")
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITIONS\tREPLICATION-FACTOR")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", d.Topic, len(d.Partitions), d.Partitions.NumReplicas())
	}
	tw.Flush()
}
