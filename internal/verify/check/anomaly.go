// Package check finds what went wrong in a verify run's history: records
// lost, duplicated, read out of order, read from aborted transactions,
// transactions torn apart. It is a pure function, Check: a history in,
// findings out, each with the operations that prove it; no clock, no I/O.
// Judge then says which findings break a given delivery guarantee and
// which are only counted.
//
// Anomalies keep the names of Jepsen's Kafka workload checker
// (jepsen.tests.kafka) where one applies; docs/verify.md defines each with
// a small example history.
package check

// Anomaly names one kind of finding.
type Anomaly string

const (
	// LostWrite: an acknowledged record never read, though a later offset
	// of its partition was.
	LostWrite Anomaly = "lost-write"
	// Unseen: an acknowledged record never read by the end of the run,
	// with no later offset read to prove it lost (else it is a lost-write).
	Unseen Anomaly = "unseen"
	// Undelivered: a record in the log that a consumer group's application
	// never received, though it received a later offset of the partition.
	Undelivered Anomaly = "undelivered"
	// Duplicate: one value at two or more offsets of a partition.
	Duplicate Anomaly = "duplicate"
	// DuplicateDelivery: one record delivered twice to a consumer group's
	// application.
	DuplicateDelivery Anomaly = "duplicate-delivery"
	// InconsistentOffsets: one offset seen holding two different values.
	InconsistentOffsets Anomaly = "inconsistent-offsets"
	// G1a: an aborted read, a record of an aborted transaction (or of a
	// send that definitely failed) returned to a read_committed poll.
	G1a Anomaly = "G1a"
	// PrecommittedRead: a transaction read its own writes.
	PrecommittedRead Anomaly = "precommitted-read"
	// PollSkip: a consumer's reads of a partition jumped over records it
	// should have seen, with no reassignment in between.
	PollSkip Anomaly = "poll-skip"
	// NonmonotonicPoll: a consumer's reads of a partition went back or
	// repeated an offset, with no reassignment in between.
	NonmonotonicPoll Anomaly = "nonmonotonic-poll"
	// NonmonotonicSend: a process's later send to a partition landed at a
	// lower offset than its earlier one.
	NonmonotonicSend Anomaly = "nonmonotonic-send"
	// TornTransaction: part of a committed transaction visible at
	// read_committed, part never.
	TornTransaction Anomaly = "torn-transaction"
	// G1c: a cycle of transactions, each reading what the one before it
	// wrote.
	G1c Anomaly = "G1c"
)

// Anomalies lists every anomaly in the order reports show them: losses,
// duplicates, the log's integrity, transactions, ordering.
var Anomalies = []Anomaly{
	LostWrite, Unseen, Undelivered,
	Duplicate, DuplicateDelivery,
	InconsistentOffsets,
	G1a, PrecommittedRead, TornTransaction, G1c,
	PollSkip, NonmonotonicPoll, NonmonotonicSend,
}

// rank is the anomaly's place in Anomalies.
func (a Anomaly) rank() int {
	for i, x := range Anomalies {
		if x == a {
			return i
		}
	}
	return len(Anomalies)
}
