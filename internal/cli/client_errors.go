package cli

// Errors a person can act on. franz-go reports what the protocol says
// (UNKNOWN_TOPIC_OR_PARTITION, PRODUCER_FENCED, ...); these helpers add
// what happened in words and what to do about it, in one line.

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// explainErr is explain (an unreachable or silent broker) followed by
// advise (a refusal with a remedy).
func (c *conn) explainErr(ctx context.Context, err error) error {
	return advise(c.explain(ctx, err))
}

// advise turns an authorization failure into what it means and what to do.
func advise(err error) error {
	if _, done := errors.AsType[*authError](err); !done && isAuthorization(err) {
		return &authError{err}
	}
	return err
}

// authError says "not authorized" with the error code's name, not kerr's
// description, which repeats it.
type authError struct{ err error }

func (a *authError) Error() string {
	name := "authorization failed"
	if ke, ok := errors.AsType[*kerr.Error](a.err); ok {
		name = ke.Message
	}
	return "not authorized (" + name + "): ask the cluster's administrator for an ACL that allows this client to do it"
}

func (a *authError) Unwrap() error { return a.err }

func isAuthorization(err error) bool {
	if _, ok := errors.AsType[*kadm.AuthError](err); ok {
		return true
	}
	for _, auth := range []error{kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed,
		kerr.ClusterAuthorizationFailed, kerr.TransactionalIDAuthorizationFailed} {
		if errors.Is(err, auth) {
			return true
		}
	}
	return false
}

// isUnknownTopic is true for both ways a broker says a topic does not exist.
func isUnknownTopic(err error) bool {
	return errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, kerr.UnknownTopicID)
}

// topicErr names the topic an error is about; a missing topic gets the
// command that creates it.
func topicErr(topic string, err error) error {
	if isUnknownTopic(err) {
		return fmt.Errorf("topic %q does not exist (create it with 'sluice topic create %s'; 'sluice topic list' lists topics)", topic, topic)
	}
	return fmt.Errorf("topic %q: %w", topic, advise(err))
}

// refusal is a broker's refusal in its own words: the error code's name and
// the message the broker sent, when it sent one, rather than kerr's generic
// description of the code (INVALID_PARTITIONS is described as "Number of
// partitions is below 1." whatever the reason was).
func refusal(err error, msg string) error {
	ke, ok := errors.AsType[*kerr.Error](err)
	if !ok || msg == "" {
		return err
	}
	return &brokerMessage{ke, msg}
}

type brokerMessage struct {
	err *kerr.Error
	msg string
}

func (b *brokerMessage) Error() string { return b.err.Message + ": " + b.msg }
func (b *brokerMessage) Unwrap() error { return b.err }

// topicErrOrNil is topicErr of a broker's refusal with its message, or nil
// when there was none.
func topicErrOrNil(topic string, err error, msg string) error {
	if err == nil {
		return nil
	}
	return topicErr(topic, refusal(err, msg))
}

// isFenced is true when a newer producer with the same transactional id
// has taken over: brokers answer PRODUCER_FENCED, or INVALID_PRODUCER_EPOCH
// to request versions older than that error.
func isFenced(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch)
}

// fencedErr explains a fenced producer: what it means for its output and
// how not to be fenced again.
func fencedErr(txnID string, err error) error {
	return fmt.Errorf("another producer took over transactional id %q, so this one was fenced and stopped "+
		"(its open transaction is aborted; transactions it committed stay): give each running producer its own --transactional-id (%w)", txnID, err)
}

// requireTopic fails with topicErr unless the topic exists, and returns its
// partition count. Producers and consumers check first because franz-go
// would otherwise retry a missing topic for a while and then speak of
// metadata.
func requireTopic(ctx context.Context, adm *kadm.Client, topic string) (int, error) {
	ds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, topicErr(topic, err)
	}
	d, ok := ds[topic]
	switch {
	case !ok:
		return 0, topicErr(topic, kerr.UnknownTopicOrPartition)
	case d.Err != nil:
		return 0, topicErr(topic, d.Err)
	}
	return len(d.Partitions), nil
}

// plural is "1 partition", "3 partitions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
