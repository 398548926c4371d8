package cli

// `sluice topic delete`.

import (
	"context"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func runTopicDelete(args []string, stdout, stderr io.Writer) int {
	const name = "topic delete"
	fs, c := newClientFlags(name, name+" TOPIC [TOPIC...]", stderr)
	topics, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(topics) == 0 {
		return cmdUsageError(stderr, name, "name at least one TOPIC")
	}
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		rs, err := adm.DeleteTopics(ctx, topics...)
		if err != nil {
			return err
		}
		return eachName(topics, "topic", func(t string) (bool, error) {
			r, ok := rs[t]
			return ok, topicErrOrNil(t, r.Err, r.ErrMessage)
		}, func(t string) { fmt.Fprintf(stdout, "Deleted topic %q.\n", t) })
	})
}
