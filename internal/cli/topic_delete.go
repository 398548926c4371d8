package cli

// `sluice topic delete`.

import (
	"fmt"
	"io"
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
	adm, ctx, done, err := c.adminAs("sluice-topic")
	if err != nil {
		return cmdFailure(stderr, name, err)
	}
	defer done()
	rs, err := adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return cmdFailure(stderr, name, c.explainErr(ctx, err))
	}
	code = 0
	for _, t := range topics {
		r, ok := rs[t]
		switch {
		case !ok:
			code = cmdFailure(stderr, name, fmt.Errorf("topic %q: the broker's answer does not mention it", t))
		case r.Err != nil:
			code = cmdFailure(stderr, name, topicErr(t, refusal(r.Err, r.ErrMessage)))
		default:
			fmt.Fprintf(stdout, "Deleted topic %q.\n", t)
		}
	}
	return code
}
