package group

// Transactional offsets (KIP-98, KIP-447). A TxnOffsetCommit writes the
// offsets into the offsets log inside the producer's transaction; they
// stay pending, invisible to OffsetFetch, until the transaction's marker:
// a commit applies them (in the order they were written), an abort drops
// them. Replay of the offsets log follows the same rule, so offsets of a
// transaction that was aborted, or never decided, never become committed.

// txnOffset is one pending offset of a producer's transaction.
type txnOffset struct {
	group string
	tp    TopicPartition
	value Committed
}

// ApplyTxn records an offset written inside producer pid's transaction.
func (o *Offsets) ApplyTxn(pid int64, group string, tp TopicPartition, c Committed) {
	if o.pending == nil {
		o.pending = map[int64][]txnOffset{}
	}
	o.pending[pid] = append(o.pending[pid], txnOffset{group, tp, c})
}

// EndTxn applies (commit) or drops (abort) producer pid's pending offsets.
func (o *Offsets) EndTxn(pid int64, commit bool) {
	if commit {
		for _, t := range o.pending[pid] {
			o.Apply(t.group, t.tp, &t.value)
		}
	}
	delete(o.pending, pid)
}

// Unstable reports whether an undecided transaction holds an offset for
// the group's partition: OffsetFetch with require_stable then answers
// UNSTABLE_OFFSET_COMMIT (KIP-447), so a new consumer does not start from
// an offset about to change.
func (o *Offsets) Unstable(group string, tp TopicPartition) bool {
	for _, offs := range o.pending {
		for _, t := range offs {
			if t.group == group && t.tp == tp {
				return true
			}
		}
	}
	return false
}

// pendingGroups lists the groups with undecided transactional offsets.
func (o *Offsets) pendingGroups() []string {
	var out []string
	for _, offs := range o.pending {
		for _, t := range offs {
			out = append(out, t.group)
		}
	}
	return out
}
