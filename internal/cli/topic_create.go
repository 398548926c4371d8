package cli

// `sluice topic create`.

import (
	"context"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
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
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		rs, err := adm.CreateTopics(ctx, int32(*partitions), int16(*replication), cfg, topics...)
		if err != nil {
			return err
		}
		return eachName(topics, "topic", func(t string) (bool, error) {
			r, ok := rs[t]
			return ok, topicErrOrNil(t, r.Err, r.ErrMessage)
		}, func(t string) {
			fmt.Fprintf(stdout, "Created topic %q: %s, replication factor %d.\n", t, plural(int(rs[t].NumPartitions), "partition"), rs[t].ReplicationFactor)
		})
	})
}
