package fetchsession

import "time"

// Eviction follows Kafka's rules (KIP-227). When the cache is full, a new
// session may take the place of an existing one if:
//
//  1. the existing session is stale: the least recently used one, unused
//     for longer than EvictAfter, goes first, whoever asks;
//  2. the new session is a follower's (privileged) and the existing one a
//     consumer's: replication must not starve behind consumers;
//  3. both are of the same kind, the new one has strictly more partitions
//     (where a session saves the most), and the existing one was created
//     more than EvictAfter ago, so that a new session cannot be pushed out
//     before it has paid for itself.
//
// Under rules 2 and 3 the victim is the least valuable candidate:
// consumers' before followers', then the fewest partitions, then the
// lowest id. A consumer's session never evicts a follower's but by rule 1.
// Kafka judges a session's age at its last use; Sluice at the moment of
// eviction, which is the rule as stated.
//
// The scan is linear in the number of sessions, at most Slots (1,000 by
// default), and happens only when a full fetch finds the cache full.

// evictLocked removes one session to make room for a new session of size
// partitions, if the rules allow, and reports whether it did. Requires
// c.mu.
func (c *Cache) evictLocked(now time.Time, privileged bool, size int) bool {
	var lru, victim *Session
	for _, s := range c.sessions {
		if lru == nil || usedBefore(s, lru) {
			lru = s
		}
		if c.mayEvict(now, privileged, size, s) && (victim == nil || lessValuable(s, victim)) {
			victim = s
		}
	}
	if lru != nil && now.Sub(lru.lastUsed) > c.cfg.EvictAfter {
		victim = lru
	}
	if victim == nil {
		return false
	}
	c.removeLocked(victim)
	return true
}

// mayEvict reports whether a new session (privileged, of size partitions)
// may evict s by rule 2 or 3. Requires c.mu.
func (c *Cache) mayEvict(now time.Time, privileged bool, size int, s *Session) bool {
	if privileged != s.privileged {
		return privileged
	}
	return size > s.size && now.Sub(s.created) > c.cfg.EvictAfter
}

// usedBefore orders sessions by last use, then id. Requires c.mu.
func usedBefore(a, b *Session) bool {
	if !a.lastUsed.Equal(b.lastUsed) {
		return a.lastUsed.Before(b.lastUsed)
	}
	return a.id < b.id
}

// lessValuable orders eviction candidates: consumers' sessions first, then
// by size, then by id. Requires c.mu.
func lessValuable(a, b *Session) bool {
	if a.privileged != b.privileged {
		return !a.privileged
	}
	if a.size != b.size {
		return a.size < b.size
	}
	return a.id < b.id
}
