package producerstate

// Apply records a batch the log now contains: after an append, and for every
// batch replayed on start-up. It validates nothing, so replay can never fail on
// a log that Check would not have produced (data written by another broker,
// or before a bug fix); it only has to be deterministic. Batches without a
// producer id are ignored.
func (s *State) Apply(b Batch) {
	if !b.idempotent() {
		return
	}
	e := s.entryFor(b.ProducerID, b.Epoch)
	e.add(metaOf(b), b.Epoch)
	if b.Transactional && e.txnFirst == noOffset {
		e.txnFirst = b.FirstOffset
		s.open[b.ProducerID] = b.FirstOffset
	}
}

// entryFor returns the producer's entry, creating an empty one.
func (s *State) entryFor(pid int64, epoch int16) *entry {
	e, ok := s.producers[pid]
	if !ok {
		e = &entry{epoch: epoch, txnFirst: noOffset, coordinatorEpoch: -1}
		s.producers[pid] = e
	}
	return e
}
