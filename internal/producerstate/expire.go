package producerstate

// Expire forgets producers idle for ExpirationMs or longer and returns their
// ids in ascending order. Idle time is nowMs minus the timestamp of the
// producer's last batch; the bound is inclusive, as in Kafka's
// ProducerStateManager.isProducerExpired (currentTimeMs - lastTimestamp >=
// producer.id.expiration.ms).
//
// Kafka also keeps a producer with an open transaction; transactions are not
// tracked yet, so Transactional does not protect a producer here.
func (s *State) Expire(nowMs int64) []int64 {
	limit := s.cfg.expirationMs()
	var expired []int64
	for _, id := range s.sortedIDs() {
		if idleAtLeast(nowMs, s.producers[id].lastTimestamp, limit) {
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
