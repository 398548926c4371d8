package cli

// `sluice topic alter`: add partitions, set and remove configs.

import (
	"context"
	"fmt"
	"github.com/twmb/franz-go/pkg/kgo"
	"io"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
)

// topicChange is what alter was asked to do.
type topicChange struct {
	topic      string
	partitions int // 0: unchanged
	set        map[string]*string
	remove     []string
}

func runTopicAlter(args []string, stdout, stderr io.Writer) int {
	const name = "topic alter"
	fs, c := newClientFlags(name, name+" TOPIC [--partitions N] [--config key=value]... [--delete-config key]...", stderr)
	partitions := fs.Int("partitions", 0, "grow the topic to this many partitions (partitions cannot be removed)")
	var set, remove multiFlag
	fs.Var(&set, "config", "set a topic config, key=value; repeat for more")
	fs.Var(&remove, "delete-config", "remove a config from the topic, so the broker's default applies; repeat for more")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	ch, err := buildTopicChange(pos, *partitions, set, remove)
	if err != nil {
		return cmdUsageError(stderr, name, "%v", err)
	}
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		return alterTopic(ctx, adm, ch, stdout)
	})
}

func buildTopicChange(pos []string, partitions int, set, remove []string) (topicChange, error) {
	if len(pos) != 1 {
		return topicChange{}, fmt.Errorf("want exactly one TOPIC, got %d arguments", len(pos))
	}
	if partitions < 0 {
		return topicChange{}, fmt.Errorf("--partitions %d: want a positive count", partitions)
	}
	if partitions == 0 && len(set) == 0 && len(remove) == 0 {
		return topicChange{}, fmt.Errorf("nothing to change: give --partitions, --config or --delete-config")
	}
	cfg, err := parseConfigs(set)
	if err != nil {
		return topicChange{}, err
	}
	for _, k := range remove {
		if _, ok := cfg[k]; ok {
			return topicChange{}, fmt.Errorf("%s is both set and deleted", k)
		}
	}
	return topicChange{topic: pos[0], partitions: partitions, set: cfg, remove: remove}, nil
}

// alterTopic grows the partitions first, then changes the configs, and
// prints each change once the broker has made it.
func alterTopic(ctx context.Context, adm *kadm.Client, ch topicChange, w io.Writer) error {
	before, err := requireTopic(ctx, adm, ch.topic)
	if err != nil {
		return err
	}
	if ch.partitions > 0 {
		if err := setPartitions(ctx, adm, ch.topic, ch.partitions); err != nil {
			return err
		}
		fmt.Fprintf(w, "Topic %q has %s (had %d).\n", ch.topic, plural(ch.partitions, "partition"), before)
	}
	if len(ch.set) == 0 && len(ch.remove) == 0 {
		return nil
	}
	if err := alterConfigs(ctx, adm, ch); err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(ch.set))
	for _, k := range keys {
		fmt.Fprintf(w, "Set %s=%s on topic %q.\n", k, *ch.set[k], ch.topic)
	}
	for _, k := range ch.remove {
		fmt.Fprintf(w, "Removed %s from topic %q; the broker's default applies.\n", k, ch.topic)
	}
	return nil
}

func setPartitions(ctx context.Context, adm *kadm.Client, topic string, n int) error {
	rs, err := adm.UpdatePartitions(ctx, n, topic)
	if err != nil {
		return err
	}
	r, ok := rs[topic]
	if !ok {
		return fmt.Errorf("topic %q: the broker's answer does not mention it", topic)
	}
	if r.Err != nil {
		return topicErr(topic, refusal(r.Err, r.ErrMessage))
	}
	return nil
}

// alterConfigs sends one IncrementalAlterConfigs with every change, so the
// broker applies all of them or none.
func alterConfigs(ctx context.Context, adm *kadm.Client, ch topicChange) error {
	var alters []kadm.AlterConfig
	for k, v := range ch.set {
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: v})
	}
	for _, k := range ch.remove {
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	rs, err := adm.AlterTopicConfigs(ctx, alters, ch.topic)
	if err != nil {
		return err
	}
	r, err := rs.On(ch.topic, nil)
	if err == nil {
		err = r.Err
	}
	if err != nil {
		return topicErr(ch.topic, refusal(err, r.ErrMessage))
	}
	return nil
}
