package cli

// `sluice topic create`.

import (
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kadm"
)

func runTopicCreate(args []string, stdout, stderr io.Writer) int {
	const name = "topic create"
	fs, c := newClientFlags(name, name+" TOPIC [TOPIC...] [--partitions N] [--replication-factor R] [--config key=value]...", stderr)
	partitions := fs.Int("partitions", -1, "partitions per topic; -1: the broker's num.partitions")
	replication := fs.Int("replication-factor", -1, "replicas per partition; -1: the broker's default.replication.factor")
	var configs multiFlag
	fs.Var(&configs, "config", "a topic config as key=value; repeat for more")
	topics, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(topics) == 0 {
		return cmdUsageError(stderr, name, "name at least one TOPIC")
	}
	if *partitions == 0 || *partitions < -1 || *replication == 0 || *replication < -1 {
		return cmdUsageError(stderr, name, "--partitions and --replication-factor must be positive")
	}
	cfg, err := parseConfigs(configs)
	if err != nil {
		return cmdUsageError(stderr, name, "%v", err)
	}
	adm, ctx, done, err := c.adminAs("sluice-topic")
	if err != nil {
		return cmdFailure(stderr, name, err)
	}
	defer done()
	rs, err := adm.CreateTopics(ctx, int32(*partitions), int16(*replication), cfg, topics...)
	if err != nil {
		return cmdFailure(stderr, name, c.explainErr(ctx, err))
	}
	return reportCreates(topics, rs, stdout, stderr)
}

// reportCreates prints one line per topic, in the order asked for.
func reportCreates(topics []string, rs kadm.CreateTopicResponses, stdout, stderr io.Writer) int {
	code := 0
	for _, t := range topics {
		r, ok := rs[t]
		switch {
		case !ok:
			code = cmdFailure(stderr, "topic create", fmt.Errorf("topic %q: the broker's answer does not mention it", t))
		case r.Err != nil:
			code = cmdFailure(stderr, "topic create", topicErr(t, refusal(r.Err, r.ErrMessage)))
		default:
			fmt.Fprintf(stdout, "Created topic %q: %s, replication factor %d.\n", t, plural(int(r.NumPartitions), "partition"), r.ReplicationFactor)
		}
	}
	return code
}
