// Package fetchsession keeps the broker's incremental fetch sessions
// (KIP-227): for each session, the partitions a client fetches with what it
// last asked for them and what it was last told about them, so that the
// client sends only the partitions whose fetch position changed and the
// broker answers only the partitions with something new.
//
// The package knows no Kafka request versions and reads no clock: the
// handler passes the time and version-independent values in, which is what
// lets the tests drive eviction and expiry deterministically.
//
// A session's life, as the handler drives it:
//
//   - A full fetch at epoch 0 may create one (Cache.Create), after it has
//     read its partitions: the session remembers each partition's request
//     and the response's high watermark, last stable offset and log start.
//     The client's next request is at epoch 1.
//   - An incremental fetch names the session and its current epoch
//     (Cache.Incremental): the epoch is checked, the partitions it lists
//     are added or updated, the forgotten ones removed, and the epoch moves
//     on. The fetch then reads every partition of the session (Session.Visit,
//     Partition.Offer) and answers only those Offer selects; Session.Finish
//     makes that answer what the client was told.
//   - A full fetch naming the session closes it (Cache.Remove).
//
// The cache is bounded by a number of sessions, and a new session may
// evict an old one by Kafka's rules (evict.go).
package fetchsession
