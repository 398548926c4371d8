package check

import "sluice/internal/verify/history"

// status is whether a transaction, or a record in the log, took effect.
type status int

const (
	// committed: visible to every reader. For a record outside any
	// transaction, that is simply being in the log.
	committed status = iota
	// aborted: must never be visible at read_committed.
	aborted
	// unknown: the client never learnt, and no read_committed poll showed
	// it; expect neither its presence nor its absence.
	unknown
)

// txn is one transaction as the history shows it.
type txn struct {
	id  string
	ops []int // every op with this txn id: sends, polls, commits, begin, end
	// decided is the op that settled the status (a txn-commit or
	// txn-abort), or -1.
	decided int
	// acknowledged: a txn-commit returned ok.
	acknowledged bool
	status       status
	// provedAborted: the status was unknown, and is aborted because a
	// read_committed reader went past one of its writes without it.
	provedAborted bool
}

func (a *analysis) txn(id string) *txn {
	t, ok := a.txns[id]
	if !ok {
		t = &txn{id: id, decided: -1, status: unknown}
		a.txns[id] = t
	}
	return t
}

// resolveTxns decides each transaction's status. An ok commit makes it
// committed. Else an abort (whatever its outcome: an aborting transaction
// can no longer commit) or a commit that definitely failed makes it
// aborted. Else, for a commit whose answer was lost or a client that died
// first, it is committed if a read_committed poll saw one of its writes
// (Jepsen's "must have committed"); aborted if none was seen though a
// read_committed poll read past one of them ("must have aborted": a
// read_committed reader cannot pass an open transaction, and a committed
// one's writes are all visible, which torn-transaction checks); unknown
// otherwise.
func (a *analysis) resolveTxns() {
	ends := a.readCommittedEnds()
	for _, t := range a.txns {
		for _, i := range t.ops {
			a.settle(t, i)
		}
		switch {
		case t.status != unknown:
		case a.someWriteReadCommitted(t):
			t.status = committed
		case a.someWritePassed(t, ends):
			t.status, t.provedAborted = aborted, true
		}
	}
}

// readCommittedEnds is, per partition, the highest offset a
// read_committed poll returned.
func (a *analysis) readCommittedEnds() map[history.TopicPartition]int64 {
	ends := map[history.TopicPartition]int64{}
	for _, op := range a.ops {
		if op.Kind != history.Poll || op.Isolation != history.ReadCommitted {
			continue
		}
		for _, r := range op.Records {
			if cur, ok := ends[r.TP()]; !ok || r.Offset > cur {
				ends[r.TP()] = r.Offset
			}
		}
	}
	return ends
}

// someWritePassed reports whether a read_committed poll returned a later
// offset of the partition of one of t's writes, at the offset its send
// reported.
func (a *analysis) someWritePassed(t *txn, ends map[history.TopicPartition]int64) bool {
	for _, i := range t.ops {
		op := a.ops[i]
		if op.Kind != history.Send || op.Outcome != history.OK || op.Record.Offset == history.NoOffset {
			continue
		}
		if end, ok := ends[op.Record.TP()]; ok && end > op.Record.Offset {
			return true
		}
	}
	return false
}

func (a *analysis) settle(t *txn, i int) {
	op := a.ops[i]
	switch {
	case t.acknowledged:
	case op.Kind == history.TxnCommit && op.Outcome == history.OK:
		t.status, t.decided, t.acknowledged = committed, i, true
	case op.Kind == history.TxnAbort, op.Kind == history.TxnCommit && op.Outcome == history.Fail:
		t.status, t.decided = aborted, i
	case op.Kind == history.TxnCommit && t.decided < 0:
		t.decided = i // an info commit: the best evidence there is
	}
}

func (a *analysis) someWriteReadCommitted(t *txn) bool {
	for _, i := range t.ops {
		if a.ops[i].Kind == history.Send && a.readCommitted(i) {
			return true
		}
	}
	return false
}

// readCommitted reports whether a read_committed poll returned the record
// of send i (at its offset, when the send knows it).
func (a *analysis) readCommitted(send int) bool {
	return len(a.readersOf(send, history.ReadCommitted)) > 0
}

// readersOf lists the polls that returned send i's record, at the
// isolation level given ("" for any).
func (a *analysis) readersOf(send int, iso history.Isolation) []int {
	r := *a.ops[send].Record
	var polls []int
	for _, rd := range a.reads[valueKey{r.TP(), r.Value}] {
		if r.Offset != history.NoOffset && rd.offset != r.Offset {
			continue
		}
		if iso == "" || a.ops[rd.op].Isolation == iso {
			polls = append(polls, rd.op)
		}
	}
	return polls
}

// sendStatus is whether send i's record, if it is in the log, took
// effect: for a plain send, unless it definitely failed; for a
// transactional one, as its transaction did.
func (a *analysis) sendStatus(i int) status {
	op := a.ops[i]
	if op.Txn != "" {
		return a.txns[op.Txn].status
	}
	if op.Outcome == history.Fail {
		return aborted
	}
	return committed
}

// writersOf lists the sends that may have written the record with value
// at offset: the acknowledged send that reported that offset, else the
// value's sends whose offset nobody told.
func (a *analysis) writersOf(tp history.TopicPartition, offset int64, value string) []int {
	if i, ok := a.sendAt[posKey{tp, offset}]; ok && a.ops[i].Record.Value == value {
		return []int{i}
	}
	var ws []int
	for _, i := range a.sends[valueKey{tp, value}] {
		if a.ops[i].Record.Offset == history.NoOffset {
			ws = append(ws, i)
		}
	}
	return ws
}

// recordStatus is whether the record with value at offset took effect,
// and the sends that may have written it. One writer that took effect is
// enough. A record no send explains (its writer died before logging it)
// took effect if a read_committed poll returned it.
func (a *analysis) recordStatus(tp history.TopicPartition, offset int64, value string) (status, []int) {
	ws := a.writersOf(tp, offset, value)
	if len(ws) == 0 {
		for _, rd := range a.reads[valueKey{tp, value}] {
			if rd.offset == offset && a.ops[rd.op].Isolation == history.ReadCommitted {
				return committed, nil
			}
		}
		return unknown, nil
	}
	s := aborted
	for _, w := range ws {
		switch a.sendStatus(w) {
		case committed:
			return committed, ws
		case unknown:
			s = unknown
		}
	}
	return s, ws
}

// expected reports whether a reader at isolation iso must see the record
// with value at offset.
func (a *analysis) expected(iso history.Isolation, tp history.TopicPartition, offset int64, value string) bool {
	if iso == history.ReadUncommitted {
		return true
	}
	s, _ := a.recordStatus(tp, offset, value)
	return s == committed
}

// delivered reports whether poll i's records count as delivered to its
// group's application: a poll outside transactions always does; one
// processed in a transaction only if the transaction took effect, since
// an aborted one's work is undone and its records are read again.
func (a *analysis) delivered(i int) bool {
	op := a.ops[i]
	return op.Group != "" && (op.Txn == "" || a.txns[op.Txn].status == committed)
}

// endEvidence is the op that ended transaction t, in words.
func (a *analysis) endEvidence(t *txn) Evidence {
	op := a.ops[t.decided]
	role := "aborted " + t.id
	switch {
	case op.Kind == history.TxnAbort:
	case op.Outcome == history.OK:
		role = "committed " + t.id
	case op.Outcome == history.Fail:
		role = "failed to commit " + t.id
	default:
		role = "committed " + t.id + ", outcome unknown"
	}
	return a.evidence(role, t.decided, nil)
}
