package cli

// `sluice topic`: topic administration through franz-go's kadm, so it
// works against any Kafka-compatible broker and sees only what a client
// would see.

import (
	"fmt"
	"io"
	"strings"
)

const topicUsageText = `Usage: sluice topic <subcommand> [flags]

Create, inspect, change and delete topics over the Kafka protocol.

Subcommands:
  create    create topics with a partition count, replication factor and configs
  list      list topics with their partition counts
  describe  show a topic's configs and, per partition, its leader, replicas,
            log start offset, high watermark and last stable offset
  alter     add partitions, set or remove configs
  delete    delete topics with their records

Examples:
  sluice topic create orders --partitions 3 --config retention.ms=86400000
  sluice topic describe orders
  sluice topic alter orders --partitions 6 --delete-config retention.ms
  sluice topic delete orders

Every subcommand takes --brokers host:port[,host:port] (default: $SLUICE_BROKERS,
else 127.0.0.1:9092), --timeout, and the SASL and TLS flags (--sasl-mechanism,
--ssl-ca-location, ...). Run 'sluice topic <subcommand> -h' for its flags.
`

var topicCommands = subcommands{
	"create":   runTopicCreate,
	"list":     runTopicList,
	"describe": runTopicDescribe,
	"alter":    runTopicAlter,
	"delete":   runTopicDelete,
}

func runTopic(args []string, stdout, stderr io.Writer) int {
	return dispatch("topic", topicUsageText, topicCommands, args, stdout, stderr)
}

// parseConfigs reads repeated --config key=value flags.
func parseConfigs(kvs []string) (map[string]*string, error) {
	out := map[string]*string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--config %q: want key=value", kv)
		}
		out[k] = &v
	}
	return out, nil
}
