// Package group holds Sluice's consumer-group coordinator.
//
// The classic group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup)
// is modelled by Coordinator as a pure state machine: no clock, no
// goroutines, no I/O. Every call takes the current time as an argument and
// returns the replies that became ready, so the I/O loop that owns sockets
// and the clock stays in charge of time, and tests drive scenarios with a
// fake clock and exact expectations.
//
// JoinGroup and SyncGroup may be answered later than they arrive (they wait
// for a rebalance). Such requests carry a Token chosen by the caller; every
// Token passed to Join or Sync is answered by exactly one Reply, from the
// call itself or from a later call (another member's request, Leave, Tick).
//
// The behaviour follows Apache Kafka's classic group coordinator, since
// clients (Java, librdkafka, franz-go, sarama, kafkajs) react to its exact
// error codes; KIP-345 (static membership), KIP-394 (MEMBER_ID_REQUIRED),
// KIP-814 (SkipAssignment) and KIP-211 (empty-since for offset expiry) are
// cited where they shape a rule.
package group
