// Package producerstate keeps the per-partition state of idempotent producers
// (KIP-98): for every producer id, its epoch and the metadata of its last five
// appended batches. With it a partition leader rejects batches that are out of
// order or from a fenced epoch, and answers a retried batch with the offsets it
// was first written at instead of writing it twice.
//
// The partition calls Check before appending a batch that carries a producer id,
// appends it if the verdict allows, then calls Apply with the offsets it got. On
// start-up it rebuilds the state from a Snapshot plus an Apply of every batch
// after the snapshot's offset.
//
// The rules follow Apache Kafka's broker (ProducerAppendInfo.checkProducerEpoch,
// ProducerAppendInfo.checkSequence, ProducerStateEntry.findDuplicateBatch and
// ProducerStateManager.isProducerExpired) because clients react to the exact
// error codes Kafka returns.
//
// Nothing here reads a clock, starts a goroutine or does I/O: time comes in as
// an argument (ms since the epoch) and snapshots are plain []byte.
package producerstate
