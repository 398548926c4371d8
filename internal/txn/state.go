// Package txn is the transaction coordinator (KIP-98) as a pure state
// machine: events and the current time go in; the state to make durable,
// the markers to write and the reply come out. It does no I/O and keeps
// no clock, so fencing, timeouts and retries are deterministic tests
// (testdata/*.txt). A thin service does the log writes, the markers and
// the timer.
//
// The life of a transactional id:
//
//	InitProducerId        -> Empty          (new producer id or epoch bump: fences older producers)
//	AddPartitionsToTxn    -> Ongoing        (partitions and the group's offsets partition join)
//	EndTxn                -> PrepareCommit | PrepareAbort   (durable, then answered)
//	markers written       -> CompleteCommit | CompleteAbort
//
// Every transition is written to the transaction log and applied only
// when durable (Applied); while one is being written the id answers
// CONCURRENT_TRANSACTIONS. A transaction found in a Prepare state after a
// restart has its markers written again (Recover), so no transaction is
// left half decided.
package txn

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// State is a transactional id's state, numbered as in Kafka's
// __transaction_state records.
type State int8

const (
	Empty State = iota
	Ongoing
	PrepareCommit
	PrepareAbort
	CompleteCommit
	CompleteAbort
	Dead
	PrepareEpochFence // in Kafka's numbering; Sluice fences with one PrepareAbort transition
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("State(%d)", int8(s))
	}
	return stateNames[s]
}

// validPrevious lists, for each state, the states it may be entered from
// (Kafka's TransactionState transitions).
var validPrevious = map[State][]State{
	Empty:          {Empty, CompleteCommit, CompleteAbort},
	Ongoing:        {Ongoing, Empty, CompleteCommit, CompleteAbort},
	PrepareCommit:  {Ongoing},
	PrepareAbort:   {Ongoing, Empty, CompleteCommit, CompleteAbort}, // at rest: an abort of an empty transaction under transactions v2
	CompleteCommit: {PrepareCommit},
	CompleteAbort:  {PrepareAbort},
	Dead:           {Empty, CompleteCommit, CompleteAbort},
}

// canTransition reports whether from -> to is allowed.
func canTransition(from, to State) bool { return slices.Contains(validPrevious[to], from) }

// TopicPartition names a partition in a transaction.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// Txn is one transactional id's durable state: what a record of the
// transaction log holds.
type Txn struct {
	ID         string
	ProducerID int64
	Epoch      int16
	TimeoutMs  int32
	State      State
	Partitions []TopicPartition // sorted; the partitions of the current transaction
	StartMs    int64            // when the current transaction began; -1 when none
	UpdateMs   int64

	// PrevProducerID is the producer id before the last rotation, -1
	// if none; NextProducerID is the id the producer moves to when the
	// transaction being completed exhausted the epochs (transactions v2).
	PrevProducerID int64
	NextProducerID int64
	// ClientVersion is the transaction version the client uses: 2 for
	// KIP-890 part 2 clients (EndTxn v5+), else 0.
	ClientVersion int16

	// lastEpoch is the epoch before the last bump by InitProducerId, so
	// that a retried InitProducerId (KIP-360) gets the same answer. Like
	// Kafka, it is kept in memory only.
	lastEpoch int16
}

// maxEpoch is where epochs run out: at this epoch a bump moves to a new
// producer id instead.
const maxEpoch = math.MaxInt16 - 1

func (t Txn) exhausted() bool { return t.Epoch >= maxEpoch }

func (t Txn) has(tp TopicPartition) bool {
	_, ok := slices.BinarySearchFunc(t.Partitions, tp, compareTP)
	return ok
}

func compareTP(a, b TopicPartition) int {
	if c := strings.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return int(a.Partition) - int(b.Partition)
}

// withPartitions returns t's partitions with tps added, sorted, without
// changing t's.
func (t Txn) withPartitions(tps []TopicPartition) []TopicPartition {
	out := slices.Clone(t.Partitions)
	for _, tp := range tps {
		if i, ok := slices.BinarySearchFunc(out, tp, compareTP); !ok {
			out = slices.Insert(out, i, tp)
		}
	}
	return out
}

func (t Txn) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s pid=%d epoch=%d state=%s timeout=%d", t.ID, t.ProducerID, t.Epoch, t.State, t.TimeoutMs)
	if len(t.Partitions) > 0 {
		parts := make([]string, len(t.Partitions))
		for i, tp := range t.Partitions {
			parts[i] = tp.String()
		}
		fmt.Fprintf(&b, " partitions=%s", strings.Join(parts, ","))
	}
	if t.StartMs >= 0 {
		fmt.Fprintf(&b, " start=%d", t.StartMs)
	}
	fmt.Fprintf(&b, " update=%d", t.UpdateMs)
	if t.PrevProducerID >= 0 {
		fmt.Fprintf(&b, " prev=%d", t.PrevProducerID)
	}
	if t.NextProducerID >= 0 {
		fmt.Fprintf(&b, " next=%d", t.NextProducerID)
	}
	if t.ClientVersion > 0 {
		fmt.Fprintf(&b, " tv=%d", t.ClientVersion)
	}
	return b.String()
}
