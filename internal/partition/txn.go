package partition

import (
	"sluice/internal/commitlog"
	"sluice/internal/producerstate"
	"sluice/internal/recordbatch"
)

// Transactions in a partition (KIP-98).
//
// A producer's transaction is open here from its first transactional batch
// until the coordinator's marker; producer state tracks it. The last
// stable offset (LSO) is the first offset no read_committed consumer may
// read past: the first offset of the oldest transaction not yet decided
// below the high watermark, or the HW itself. A transaction whose marker
// is appended but not yet below the HW still counts as undecided, so a
// consumer never sees the data of a transaction whose decision a crash
// could take away.
//
// The LSO only moves when the HW does (a marker only ever turns an open
// transaction into an undecided one), so long polls at read_committed
// wake with the HW watchers.

// decidedTxn is a transaction whose marker is appended but may not yet be
// below the HW.
type decidedTxn struct {
	first, marker int64
}

// LastStableOffset returns the offset below which every transaction is
// decided and durable.
func (p *Partition) LastStableOffset() int64 {
	p.hwMu.Lock()
	defer p.hwMu.Unlock()
	return p.lsoLocked()
}

// lsoLocked requires p.hwMu. A transaction that began below the log start
// (DeleteRecords moved it past the transaction's first offset) holds the
// LSO at the log start, not below it, as Kafka's first unstable offset.
func (p *Partition) lsoLocked() int64 {
	lso := p.hw
	if p.openFirst >= 0 && p.openFirst < lso {
		lso = p.openFirst
	}
	for _, d := range p.undecided {
		lso = min(lso, d.first)
	}
	return max(lso, min(p.log.StartOffset(), p.hw))
}

// pruneDecidedLocked forgets the transactions whose markers the HW has
// passed. Requires p.hwMu.
func (p *Partition) pruneDecidedLocked() {
	kept := p.undecided[:0]
	for _, d := range p.undecided {
		if d.marker >= p.hw {
			kept = append(kept, d)
		}
	}
	p.undecided = kept
}

// trackTxnLocked publishes the open transactions after producer state
// changed, and records a transaction a marker just decided. Requires p.mu.
func (p *Partition) trackTxnLocked(decided *decidedTxn) {
	first, ok := p.producers.FirstUnstableOffset()
	if !ok {
		first = -1
	}
	p.hwMu.Lock()
	p.openFirst = first
	if decided != nil {
		p.undecided = append(p.undecided, *decided)
	}
	p.hwMu.Unlock()
}

// AppendMarker writes a transaction marker (a control batch) for a
// producer, ending its transaction here. A marker of an epoch older than
// the producer's is refused with a ProducerError.
func (p *Partition) AppendMarker(m recordbatch.ControlMarker) (AppendResult, error) {
	return p.published(p.appendMarker(m))
}

func (p *Partition) appendMarker(m recordbatch.ControlMarker) (AppendResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	res := AppendResult{LogAppendTime: -1}
	if err := p.Err(); err != nil {
		return res, err
	}
	pm := producerstate.Marker{ProducerID: m.ProducerID, Epoch: m.Epoch, Commit: m.Commit,
		CoordinatorEpoch: m.CoordinatorEpoch, Timestamp: m.Timestamp}
	if code := p.producers.CheckMarker(pm); code != 0 {
		return res, &ProducerError{Code: code}
	}
	b := recordbatch.Batch(recordbatch.BuildControl(nil, m))
	base, err := p.writeLocked(b, p.clock())
	if err != nil {
		return res, err
	}
	pm.Offset = base
	var decided *decidedTxn
	if c, ok := p.producers.ApplyMarker(pm); ok {
		decided = &decidedTxn{first: c.FirstOffset, marker: c.LastOffset}
	}
	p.trackTxnLocked(decided)
	if decided != nil && !m.Commit {
		if err := p.log.AddAborted(p.abortedEntryLocked(m.ProducerID, *decided)); err != nil {
			p.fail(err)
			return res, err
		}
	}
	res.BaseOffset, res.NextOffset = base, b.NextOffset()
	return res, nil
}

// AppendTxnWrite appends a transactional batch the broker writes on a
// producer's behalf (the offsets of a TxnOffsetCommit): b carries the
// producer's id and epoch and no sequence; only the epoch is checked, so a
// fenced producer's writes are refused with a ProducerError.
func (p *Partition) AppendTxnWrite(b recordbatch.Batch) (AppendResult, error) {
	return p.published(p.appendTxnWrite(b))
}

func (p *Partition) appendTxnWrite(b recordbatch.Batch) (AppendResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	res := AppendResult{LogAppendTime: -1}
	if err := p.Err(); err != nil {
		return res, err
	}
	if code := p.producers.CheckEpoch(b.ProducerID(), b.ProducerEpoch()); code != 0 {
		return res, &ProducerError{Code: code}
	}
	base, err := p.writeLocked(b, p.clock())
	if err != nil {
		return res, err
	}
	p.producers.ApplyTxnWrite(b.ProducerID(), b.ProducerEpoch(), base, b.MaxTimestamp())
	p.trackTxnLocked(nil)
	res.BaseOffset, res.NextOffset = base, b.NextOffset()
	return res, nil
}

// abortedIn returns the aborted transactions that may have data in
// [from, to), sorted by first offset.
func (p *Partition) abortedIn(from, to int64) []AbortedTxn {
	entries := p.log.AbortedTxns(from, to)
	if len(entries) == 0 {
		return nil
	}
	out := make([]AbortedTxn, len(entries))
	for i, e := range entries {
		out[i] = AbortedTxn{ProducerID: e.ProducerID, FirstOffset: e.FirstOffset}
	}
	return out
}

// abortedEntryLocked is the index entry of an aborted transaction whose
// marker was just appended: its last stable offset is the first offset
// still undecided once it is decided, so that a search for aborted
// transactions can stop there. Requires p.mu.
func (p *Partition) abortedEntryLocked(pid int64, d decidedTxn) commitlog.AbortedEntry {
	lso := d.marker + 1
	p.hwMu.Lock()
	if p.openFirst >= 0 {
		lso = min(lso, p.openFirst)
	}
	for _, u := range p.undecided {
		if u != d {
			lso = min(lso, u.first)
		}
	}
	p.hwMu.Unlock()
	return commitlog.AbortedEntry{ProducerID: pid, FirstOffset: d.first, LastOffset: d.marker, LastStableOffset: lso}
}
