package producerstate

// Expire forgets producers idle for ExpirationMs or longer and returns their
// ids in ascending order. Idle time is nowMs minus the timestamp of the
// producer's last batch; the bound is inclusive, as in Kafka's
// ProducerStateManager.isProducerExpired (currentTimeMs - lastTimestamp >=
// producer.id.expiration.ms).
//
// A producer with an open transaction is kept, as in Kafka: its
// transaction still holds back the last stable offset until a marker
// closes it.
func (s *State) Expire(nowMs int64) []int64 {
	limit := s.cfg.expirationMs()
	var expired []int64
	for _, id := range s.sortedIDs() {
		e := s.producers[id]
		if e.txnFirst == noOffset && idleAtLeast(nowMs, e.lastTimestamp, limit) {
			delete(s.producers, id)
			expired = append(expired, id)
		}
	}
	return expired
}

// idleAtLeast reports now - last >= limit (limit > 0) without overflowing on
// extreme timestamps, which client-set batch times can be.
func idleAtLeast(now, last, limit int64) bool {
	if now < last {
		return false
	}
	return uint64(now)-uint64(last) >= uint64(limit)
}
