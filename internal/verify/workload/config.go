// Package workload holds the clients of a `sluice verify` run: the roles
// its child processes play (producers, group consumers, consumers with a
// manual assignment, transactional consume-process-produce workers, a
// read_committed observer) and the final drain. Each process records
// every operation in its own history file, following the rules of
// docs/verify.md, so that it can be killed with SIGKILL at any moment
// and the record stays true.
//
// The roles are hidden subcommands of the sluice binary (`sluice verify
// worker`), so a run needs no other program; Config renders and parses
// their command line in one place.
package workload

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Role is what a worker process does.
type Role string

const (
	// Producer sends unique values to keys of Topic.
	Producer Role = "producer"
	// Consumer reads Topic as a member of Group (subscribe: rebalances
	// move partitions), committing after or before processing.
	Consumer Role = "consumer"
	// Assigned reads every partition of Topic by manual assignment,
	// resuming from Group's committed offsets and committing to Group
	// from outside group membership, as a simple consumer does.
	Assigned Role = "assign"
	// EOS consumes Topic and writes each value to Output in the same
	// transaction that commits its input offsets.
	EOS Role = "eos"
	// Observer reads every partition of Topic from the start, for the
	// record only: its polls deliver to no application.
	Observer Role = "observer"
)

// ProducerSetting is how a producer is configured, after the seeds'
// articles on the delivery guarantees.
type ProducerSetting string

const (
	// AcksNone: acks=0, no retries (at-most-once). Nothing is
	// acknowledged, so every send is logged with outcome info.
	AcksNone ProducerSetting = "acks0"
	// AcksAll: acks=all with retries and idempotence off (at-least-once):
	// a retry after a lost acknowledgement can store a record twice.
	AcksAll ProducerSetting = "acks-all"
	// Idempotent: acks=all, retries, enable.idempotence.
	Idempotent ProducerSetting = "idempotent"
)

// ConsumerSetting is when a consumer commits.
type ConsumerSetting string

const (
	// CommitAfter processes a poll, then commits it (at-least-once).
	CommitAfter ConsumerSetting = "commit-after"
	// CommitBefore commits a poll, then processes it (at-most-once): a
	// crash in between loses the poll, and a poll whose commit did not
	// succeed is skipped rather than risk processing it twice.
	CommitBefore ConsumerSetting = "commit-before"
	// AutoCommit leaves commits to the client (enable.auto.commit): every
	// second it commits what was polled, processed or not, and a group
	// member also commits when a rebalance takes its partitions. The
	// seeds' articles give it for at-most-once; a crash after processing
	// and before the next commit delivers records again, so it is not.
	// A consumer without a group has no auto-commit in its client, so the
	// manually assigned consumer does the same itself.
	AutoCommit ConsumerSetting = "auto-commit"
)

// autoCommitInterval is auto.commit.interval.ms: shorter than Kafka's 5s
// default, so a short run sees commits between faults.
const autoCommitInterval = time.Second

// Config is one worker process's settings.
type Config struct {
	Role    Role
	Brokers []string
	// Process is the id the process's ops carry; unique in the run.
	Process int
	// History is the file the process appends its ops to.
	History    string
	Topic      string
	Output     string // EOS: the topic it writes
	Partitions int32  // of Topic (and Output, which has as many)
	Group      string
	Producer   ProducerSetting
	Consumer   ConsumerSetting
	// ReadCommitted: fetch at read_committed.
	ReadCommitted bool
	// Rate is how many records a producer sends per second (default 100).
	Rate int
	// SessionTimeout of group members (default 6s, Kafka's smallest
	// allowed by default); the rebalance timeout is twice it.
	SessionTimeout time.Duration
	// TxnID is an EOS worker's transactional id, kept by its replacement
	// so that the replacement fences it.
	TxnID string
	// AbortEvery makes an EOS worker abort about one transaction in N
	// after writing its output (0: never).
	AbortEvery int
	// Seed feeds the worker's own choices (which transactions abort).
	Seed uint64
}

// Flags registers the worker's flags on fs, filling c.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.Func("role", "producer, consumer, assign, eos or observer", func(s string) error { c.Role = Role(s); return nil })
	fs.Func("brokers", "bootstrap brokers, comma-separated", func(s string) error { c.Brokers = strings.Split(s, ","); return nil })
	fs.IntVar(&c.Process, "process", 0, "process id in the history")
	fs.StringVar(&c.History, "history", "", "history file to append to")
	fs.StringVar(&c.Topic, "topic", "", "topic produced to or read")
	fs.StringVar(&c.Output, "output", "", "eos: topic written")
	fs.Func("partitions", "partitions of the topics", func(s string) error {
		n, err := strconv.ParseInt(s, 10, 32)
		c.Partitions = int32(n)
		return err
	})
	fs.StringVar(&c.Group, "group", "", "consumer group")
	fs.Func("producer", "acks0, acks-all or idempotent", func(s string) error { c.Producer = ProducerSetting(s); return nil })
	fs.Func("consumer", "commit-after, commit-before or auto-commit", func(s string) error { c.Consumer = ConsumerSetting(s); return nil })
	fs.BoolVar(&c.ReadCommitted, "read-committed", false, "fetch at read_committed")
	fs.IntVar(&c.Rate, "rate", 0, "producer: records per second")
	fs.DurationVar(&c.SessionTimeout, "session-timeout", 0, "group session timeout")
	fs.StringVar(&c.TxnID, "txn-id", "", "eos: transactional id")
	fs.IntVar(&c.AbortEvery, "abort-every", 0, "eos: abort about one transaction in N")
	fs.Uint64Var(&c.Seed, "seed", 0, "seed of the worker's own choices")
}

// Args renders c as the command line Flags parses.
func (c Config) Args() []string {
	args := []string{
		"--role", string(c.Role), "--brokers", strings.Join(c.Brokers, ","),
		"--process", strconv.Itoa(c.Process), "--history", c.History,
		"--topic", c.Topic, "--partitions", strconv.Itoa(int(c.Partitions)),
		"--seed", strconv.FormatUint(c.Seed, 10),
	}
	add := func(name, value string) {
		if value != "" && value != "0" && value != "0s" {
			args = append(args, "--"+name, value)
		}
	}
	add("output", c.Output)
	add("group", c.Group)
	add("producer", string(c.Producer))
	add("consumer", string(c.Consumer))
	add("rate", strconv.Itoa(c.Rate))
	add("session-timeout", c.SessionTimeout.String())
	add("txn-id", c.TxnID)
	add("abort-every", strconv.Itoa(c.AbortEvery))
	if c.ReadCommitted {
		args = append(args, "--read-committed")
	}
	return args
}

func (c *Config) setDefaults() {
	if c.Rate <= 0 {
		c.Rate = 100
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 6 * time.Second
	}
}

// validate names the first bad field.
func (c Config) validate() error {
	var errs []error
	need := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	need(len(c.Brokers) > 0 && c.Brokers[0] != "", "--brokers is required")
	need(c.History != "", "--history is required")
	need(c.Topic != "", "--topic is required")
	need(c.Partitions > 0, "--partitions must be positive")
	switch c.Role {
	case Producer:
		need(c.Producer == AcksNone || c.Producer == AcksAll || c.Producer == Idempotent, "--producer %q: want acks0, acks-all or idempotent", c.Producer)
	case Consumer, Assigned:
		need(c.Group != "", "--group is required for %s", c.Role)
		need(c.Consumer == CommitAfter || c.Consumer == CommitBefore || c.Consumer == AutoCommit,
			"--consumer %q: want commit-after, commit-before or auto-commit", c.Consumer)
	case EOS:
		need(c.Group != "" && c.Output != "" && c.TxnID != "", "eos needs --group, --output and --txn-id")
	case Observer:
	default:
		need(false, "--role %q: want producer, consumer, assign, eos or observer", c.Role)
	}
	return errors.Join(errs...)
}
