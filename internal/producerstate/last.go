package producerstate

// LastOffset returns the offset of the last record of the producer's last
// batch, if the producer has state. The log cleaner keeps that batch (as
// an empty header if its records go), so that state rebuilt from the log
// still knows the producer.
func (s *State) LastOffset(producerID int64) (int64, bool) {
	e := s.producers[producerID]
	if e == nil || len(e.batches) == 0 {
		return 0, false
	}
	return e.batches[len(e.batches)-1].LastOffset, true
}
