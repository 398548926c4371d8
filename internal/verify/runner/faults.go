package runner

import (
	"fmt"
	"slices"
	"strings"

	"sluice/internal/verify/workload"
)

// Fault is a kind of fault a run injects.
type Fault string

const (
	// BrokerKill sends the spawned broker SIGKILL and starts it again on
	// the same data directory.
	BrokerKill Fault = "broker-kill"
	// BrokerPause stops the spawned broker with SIGSTOP for half a second
	// to two seconds, then continues it.
	BrokerPause Fault = "broker-pause"
	// PowerLoss crashes the spawned broker's file system: what was not
	// synced is gone, and the broker recovers from the rest. The broker
	// then runs on the in-memory file system, where a SIGKILL would lose
	// everything, so it excludes BrokerKill.
	PowerLoss Fault = "power-loss"
	// DropAck swallows the broker's answer to a Produce request, after
	// the broker stored it, and cuts the connection: the lost
	// acknowledgement.
	DropAck Fault = "drop-ack"
	// DropCommitAck does the same to an OffsetCommit, TxnOffsetCommit or
	// EndTxn answer.
	DropCommitAck Fault = "drop-commit-ack"
	// Delay holds every answer 50 to 400 ms, for two seconds.
	Delay Fault = "delay"
	// Cut closes every client connection at once.
	Cut Fault = "cut"
	// ConsumerKill sends a consumer or transactional worker SIGKILL
	// wherever it is; a replacement starts.
	ConsumerKill Fault = "consumer-kill"
	// ConsumerKillBeforeCommit and ConsumerKillAfterCommit kill one at
	// that point of its loop, with records in hand (see workload's crash
	// points).
	ConsumerKillBeforeCommit Fault = workload.FaultKillBeforeCommit
	ConsumerKillAfterCommit  Fault = workload.FaultKillAfterCommit
	// ProducerKill sends a producer SIGKILL; a replacement starts.
	ProducerKill Fault = "producer-kill"
	// Rebalance adds a member to a consumer group or stops one cleanly.
	Rebalance Fault = "rebalance"
)

// AllFaults lists every fault, in the order `all` expands to (power loss
// is asked for by name: it changes the broker's file system).
var AllFaults = []Fault{
	BrokerKill, BrokerPause, DropAck, DropCommitAck, Delay, Cut,
	ConsumerKill, ConsumerKillBeforeCommit, ConsumerKillAfterCommit, ProducerKill, Rebalance,
}

var knownFaults = append(slices.Clone(AllFaults), PowerLoss)

// needsSpawn reports whether f acts on a broker process the run owns.
func (f Fault) needsSpawn() bool { return f == BrokerKill || f == BrokerPause || f == PowerLoss }

// ParseFaults reads a comma-separated list of fault names; "all" is every
// fault the mode allows (no broker faults with external brokers), "none"
// is none. With power-loss, "all" leaves broker-kill out.
func ParseFaults(s string, spawn bool) ([]Fault, error) {
	var out []Fault
	named := map[Fault]bool{}
	for _, name := range strings.Split(s, ",") {
		f := Fault(strings.TrimSpace(name))
		switch {
		case f == "none" || f == "":
		case f == "all":
			for _, f := range AllFaults {
				if spawn || !f.needsSpawn() {
					out = append(out, f)
				}
			}
		case slices.Contains(knownFaults, f):
			if !spawn && f.needsSpawn() {
				return nil, fmt.Errorf("fault %s needs a broker the run spawns (not --brokers)", f)
			}
			out, named[f] = append(out, f), true
		default:
			return nil, fmt.Errorf("unknown fault %q (known: all, none, %s)", f, joinFaults(knownFaults))
		}
	}
	out = dedupe(out)
	if slices.Contains(out, PowerLoss) && slices.Contains(out, BrokerKill) {
		if named[BrokerKill] {
			return nil, fmt.Errorf("%s runs the broker in memory, where %s would lose everything: choose one", PowerLoss, BrokerKill)
		}
		out = slices.DeleteFunc(out, func(f Fault) bool { return f == BrokerKill })
	}
	return out, nil
}

func dedupe(fs []Fault) []Fault {
	var out []Fault
	for _, f := range fs {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func joinFaults(fs []Fault) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}
