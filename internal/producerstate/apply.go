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
	e, ok := s.producers[b.ProducerID]
	if !ok {
		e = &entry{epoch: b.Epoch}
		s.producers[b.ProducerID] = e
	}
	e.add(metaOf(b), b.Epoch)
}
