// Package history is what a `sluice verify` run records: every operation
// a workload's client performed against the brokers (sends, polls, offset
// commits, transaction outcomes, assignment changes) and every fault the
// run injected, each with the process that did it, its time and what it
// saw. The checker (package check) reads nothing else.
//
// Workloads run as child processes so that a fault can kill one; each
// appends its operations to its own file as JSON lines (Writer), and the
// parent reads the files back (ReadFile) and merges them (Merge). The
// format is described in docs/verify.md.
package history

import "time"

// Kind says what an operation was.
type Kind string

const (
	// Send is one record handed to a producer, logged once its outcome is
	// known.
	Send Kind = "send"
	// Poll is what one consumer poll returned to the application, logged
	// once the application has processed it: a consumer killed in between
	// leaves no poll, as its application never had those records.
	Poll Kind = "poll"
	// Commit is a consumer group's offset commit, inside a transaction
	// (sendOffsetsToTransaction) when Txn is set.
	Commit Kind = "commit"
	// TxnBegin, TxnCommit and TxnAbort bracket a producer's transaction.
	TxnBegin  Kind = "txn-begin"
	TxnCommit Kind = "txn-commit"
	TxnAbort  Kind = "txn-abort"
	// Assign and Revoke are changes of the partitions a consumer reads:
	// a rebalance's callbacks, a manual assign, or a seek (logged as an
	// Assign of the partitions whose position it moved). Either one ends
	// the checker's tracking of the consumer's position in those
	// partitions.
	Assign Kind = "assign"
	Revoke Kind = "revoke"
	// Fault is a fault the run injected (a lost acknowledgement, a killed
	// or paused broker, a crashed consumer, ...).
	Fault Kind = "fault"
)

// Outcome is how a send, commit or transaction end turned out, as the
// client saw it.
type Outcome string

const (
	// OK: acknowledged.
	OK Outcome = "ok"
	// Fail: definitely did not take effect.
	Fail Outcome = "fail"
	// Info: unknown (a timeout, a lost acknowledgement): it may or may
	// not have taken effect.
	Info Outcome = "info"
)

// Isolation is a poll's isolation level.
type Isolation string

const (
	ReadCommitted   Isolation = "read_committed"
	ReadUncommitted Isolation = "read_uncommitted"
)

// NoOffset is a send's offset when the broker did not tell it.
const NoOffset int64 = -1

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

// Record is one record sent or polled. Values are unique per record a
// workload sends (a retry of the same record sends the same value again),
// which is what lets the checker follow a record from send to poll.
type Record struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Value     string `json:"value"`
}

// TP is the record's partition.
func (r Record) TP() TopicPartition { return TopicPartition{r.Topic, r.Partition} }

// Position is a committed offset: the next offset the group will read.
type Position struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

// Op is one operation. Which fields are set depends on Kind; Validate
// says which.
type Op struct {
	// Process identifies one client instance. A client that crashes is
	// replaced by one with a new process id, so each process's operations
	// are one sequential story.
	Process int  `json:"process"`
	Kind    Kind `json:"kind"`
	// Time is when the operation began, End when its outcome was known
	// (zero for instant events). Wall-clock times, so that processes on
	// one machine share a clock.
	Time time.Time `json:"time"`
	End  time.Time `json:"end,omitzero"`
	// Outcome: sends, commits, txn-commit and txn-abort.
	Outcome Outcome `json:"outcome,omitempty"`
	// Record: a send's record; its Offset is NoOffset unless acknowledged
	// with one.
	Record *Record `json:"record,omitempty"`
	// Records: what a poll returned, in the order it returned them.
	Records []Record `json:"records,omitempty"`
	// Offsets: what a commit committed.
	Offsets []Position `json:"offsets,omitempty"`
	// Partitions: what an assign or revoke changed.
	Partitions []TopicPartition `json:"partitions,omitempty"`
	// Group: the consumer group of a commit, or of a poll made for the
	// consuming application. Polls without a group are the verifier's own
	// reads (the final drain) and count as no application's deliveries.
	Group string `json:"group,omitempty"`
	// Txn: the transaction the op belongs to; for a poll, the transaction
	// that processes what it returned and commits its offsets.
	Txn string `json:"txn,omitempty"`
	// Isolation: a poll's isolation level.
	Isolation Isolation `json:"isolation,omitempty"`
	// Fault: a fault's name.
	Fault string `json:"fault,omitempty"`
	// Detail: what a fault hit and how it went (the process killed, how
	// long the broker took to come back), for the report.
	Detail string `json:"detail,omitempty"`
	// Error: what the client or fault injector said, for the record.
	Error string `json:"error,omitempty"`
}

// Acknowledged reports whether the op is a send the broker acknowledged.
func (o Op) Acknowledged() bool { return o.Kind == Send && o.Outcome == OK }
