package cli

// The delivery guarantee a produce or consume command was asked for, and
// the standard client settings it maps to: the ones the articles in
// docs/semantics.md give, set through franz-go's options.

import (
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type guarantee string

const (
	atMostOnce  guarantee = "at-most-once"
	atLeastOnce guarantee = "at-least-once"
	exactlyOnce guarantee = "exactly-once"
)

var guaranteeNames = []string{string(atMostOnce), string(atLeastOnce), string(exactlyOnce)}

func parseGuarantee(s string) (guarantee, error) {
	for _, g := range guaranteeNames {
		if strings.EqualFold(s, g) {
			return guarantee(g), nil
		}
	}
	return "", fmt.Errorf("--guarantee %q: want one of %s", s, strings.Join(guaranteeNames, ", "))
}

// producerSettings are the producer's client settings for g. (How long a
// record is retried is bounded by produce_stall.go.)
//
//   - at-most-once: acks=0, retries=0. Idempotence is off: it needs
//     acks=all. A record the broker never got is lost, never duplicated.
//   - at-least-once: acks=all, retries (until --timeout passes without
//     an acknowledgement),
//     enable.idempotence=true, so the broker drops the client's own
//     retries of a batch it already has.
//   - exactly-once: transactional.id (which implies idempotence and
//     acks=all); records become visible to read_committed consumers only
//     when their transaction commits.
func producerSettings(g guarantee, txnID string) []kgo.Opt {
	switch g {
	case atMostOnce:
		return []kgo.Opt{kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite(), kgo.RecordRetries(0)}
	case exactlyOnce:
		return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks()), kgo.TransactionalID(txnID)}
	}
	return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())} // idempotence is franz-go's default
}

// producerSummary names the settings in the summary line.
func producerSummary(g guarantee, txnID string) string {
	switch g {
	case atMostOnce:
		return "at-most-once (acks=0, no retries)"
	case exactlyOnce:
		return fmt.Sprintf("exactly-once (transactional id %q)", txnID)
	}
	return "at-least-once (acks=all, retries, idempotence)"
}

// consumerSettings are the consumer's client settings for g, and for a
// group when there is one. A group's automatic commit is off
// (enable.auto.commit=false): a periodic commit can land before or after
// a record is handed out, so it gives neither guarantee reliably. The
// command commits itself instead, at the moment the guarantee needs:
//
//   - at-most-once: the records' offsets are committed before the records
//     are handed out; a crash between the two loses them.
//   - at-least-once: committed after they are handed out; a crash between
//     the two hands them out again.
//   - exactly-once: isolation.level=read_committed, committed after; with
//     --to, the copy's offsets are committed inside its transaction.
func consumerSettings(g guarantee, group string, session time.Duration) []kgo.Opt {
	var opts []kgo.Opt
	if group != "" {
		opts = append(opts, kgo.ConsumerGroup(group), kgo.DisableAutoCommit(), kgo.SessionTimeout(session),
			kgo.HeartbeatInterval(min(3*time.Second, session/3))) // Kafka's default ratio
	}
	if g == exactlyOnce {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	return opts
}
