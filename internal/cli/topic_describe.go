package cli

// `sluice topic describe`: configs and, per partition, leadership and the
// three offsets that say what a consumer can read: the log start, the high
// watermark (what read_uncommitted consumers reach) and the last stable
// offset (what read_committed consumers reach; below the high watermark
// while a transaction is open).

import (
	"context"
	"fmt"
	"github.com/twmb/franz-go/pkg/kgo"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// partOffsets are one partition's offsets; -1 where the broker gave none.
type partOffsets struct{ start, end, stable int64 }

func runTopicDescribe(args []string, stdout, stderr io.Writer) int {
	const name = "topic describe"
	fs, c := newClientFlags(name, name+" TOPIC [--all-configs]", stderr)
	all := fs.Bool("all-configs", false, "list every config with its source, not only those set on the topic")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return cmdUsageError(stderr, name, "want exactly one TOPIC, got %d arguments", len(pos))
	}
	topic := pos[0]
	return c.runAdmin(name, stderr, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
		d, configs, offsets, err := gatherTopic(ctx, adm, topic)
		if err != nil {
			return err
		}
		printTopicHeader(stdout, d)
		fmt.Fprintln(stdout)
		printTopicConfigs(stdout, configs, *all)
		fmt.Fprintln(stdout)
		printTopicPartitions(stdout, d, offsets)
		return nil
	})
}

// gatherTopic asks for the topic's metadata, configs and offsets.
func gatherTopic(ctx context.Context, adm *kadm.Client, topic string) (kadm.TopicDetail, []kadm.Config, map[int32]partOffsets, error) {
	ds, err := adm.ListTopicsWithInternal(ctx, topic)
	if err != nil {
		return kadm.TopicDetail{}, nil, nil, topicErr(topic, err)
	}
	d, ok := ds[topic]
	if !ok || d.Err != nil {
		return d, nil, nil, topicErr(topic, cmpErr(d.Err, fmt.Errorf("the broker's answer does not mention it")))
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return d, nil, nil, err
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return d, nil, nil, topicErr(topic, refusal(err, rc.ErrMessage))
	}
	offsets, err := topicOffsets(ctx, adm, topic)
	return d, rc.Configs, offsets, err
}

// topicOffsets lists log start, high watermark and last stable offset of
// every partition.
func topicOffsets(ctx context.Context, adm *kadm.Client, topic string) (map[int32]partOffsets, error) {
	starts, err := listTopicOffsets(ctx, adm, topic, adm.ListStartOffsets)
	if err != nil {
		return nil, err
	}
	ends, err := listTopicOffsets(ctx, adm, topic, adm.ListEndOffsets)
	if err != nil {
		return nil, err
	}
	stables, err := listTopicOffsets(ctx, adm, topic, adm.ListCommittedOffsets)
	if err != nil {
		return nil, err
	}
	out := map[int32]partOffsets{}
	for p, start := range starts {
		out[p] = partOffsets{start: start, end: ends[p], stable: stables[p]}
	}
	return out, nil
}

func printTopicHeader(w io.Writer, d kadm.TopicDetail) {
	tw := newTable(w)
	fmt.Fprintf(tw, "Topic:\t%s\n", d.Topic)
	if d.ID != (kadm.TopicID{}) {
		fmt.Fprintf(tw, "Topic ID:\t%s\n", d.ID)
	}
	fmt.Fprintf(tw, "Partitions:\t%d\n", len(d.Partitions))
	fmt.Fprintf(tw, "Replication factor:\t%d\n", d.Partitions.NumReplicas())
	if d.IsInternal {
		fmt.Fprintf(tw, "Internal:\tyes\n")
	}
	tw.Flush()
}

// printTopicConfigs lists the configs set on the topic itself, or with all
// every config the broker reported.
func printTopicConfigs(w io.Writer, configs []kadm.Config, all bool) {
	shown := slices.DeleteFunc(slices.Clone(configs), func(c kadm.Config) bool {
		return !all && c.Source != kmsg.ConfigSourceDynamicTopicConfig
	})
	if len(shown) == 0 {
		fmt.Fprintln(w, "No configs set on the topic; it uses the broker's defaults (--all-configs lists them).")
		return
	}
	slices.SortFunc(shown, func(a, b kadm.Config) int { return strings.Compare(a.Key, b.Key) })
	tw := newTable(w)
	fmt.Fprintln(tw, "CONFIG\tVALUE\tSOURCE")
	for _, c := range shown {
		v := c.MaybeValue()
		if c.Sensitive {
			v = "(sensitive)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Key, orDash(v), c.Source)
	}
	tw.Flush()
}

func printTopicPartitions(w io.Writer, d kadm.TopicDetail, offsets map[int32]partOffsets) {
	tw := newTable(w)
	fmt.Fprintln(tw, "PARTITION\tLEADER\tLEADER-EPOCH\tREPLICAS\tISR\tLOG-START\tHIGH-WATERMARK\tLAST-STABLE")
	for _, p := range d.Partitions.Sorted() {
		o, ok := offsets[p.Partition]
		if !ok {
			o = partOffsets{-1, -1, -1}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Partition, dash(int64(p.Leader)), dash(int64(p.LeaderEpoch)),
			nodeList(p.Replicas), nodeList(p.ISR), dash(o.start), dash(o.end), dash(o.stable))
	}
	tw.Flush()
}

// nodeList prints broker ids as "0,1,2".
func nodeList(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return orDash(strings.Join(s, ","))
}
