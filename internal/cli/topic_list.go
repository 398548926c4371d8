package cli

// `sluice topic list`.

import (
	"context"
	"fmt"
	"github.com/twmb/franz-go/pkg/kgo"
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
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		list := adm.ListTopics
		if *internal {
			list = adm.ListTopicsWithInternal
		}
		ds, err := list(ctx)
		if err == nil {
			printTopicList(stdout, ds.Sorted())
		}
		return err
	})
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
