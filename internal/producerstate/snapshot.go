package producerstate

import (
	"errors"
	"fmt"
	"hash/crc32"
)

// Snapshot format, version 2. All integers big-endian.
//
//	version        u8   = 2
//	crc            u32  CRC-32C (Castagnoli) of the version byte and of every
//	                    byte after this field, to the end of the snapshot
//	nextOffset     i64  the snapshot covers the log up to, not including, this
//	count          u32  number of producers
//	count times, in strictly ascending producer id:
//	  producerID   i64  >= 0
//	  epoch        i16
//	  lastTimestamp i64
//	  txnFirst     i64  first offset of the open transaction, -1 for none
//	  coordEpoch   i32  coordinator epoch of the last marker, -1 for none
//	  nbatches     u8   0..5 (0 only after a marker that bumped the epoch)
//	  nbatches times, oldest first:
//	    firstSeq, lastSeq         i32
//	    firstOffset, lastOffset   i64
//	    timestamp                 i64
//	    flags                     u8  bit 0: transactional; other bits must be 0
//
// Unlike Kafka's snapshot (ProducerStateManager.writeSnapshot keeps only each
// producer's last batch), all retained batches are kept, so a client retrying
// any of its in-flight batches across a restart still gets its original
// offsets, and a restored state equals the state that was saved.
//
// Version 1, written before transactions were tracked, is the same without
// txnFirst and coordEpoch and with 1..5 batches; it is still read.
//
// The encoding is canonical (ids sorted, no padding, no trailing bytes), so one
// state always encodes to the same bytes; the decoder rejects anything else.
const (
	snapshotVersion   uint8 = 2
	headerSize              = 1 + 4 + 8 + 4
	producerSizeV1          = 8 + 2 + 8 + 1
	producerSize            = producerSizeV1 + 8 + 4
	batchSize               = 4 + 4 + 8 + 8 + 8 + 1
	flagTransactional uint8 = 1
)

// ErrCorruptSnapshot is wrapped by every error Restore returns; whatever the
// cause, the caller's remedy is the same: rebuild the state by a full replay.
var ErrCorruptSnapshot = errors.New("producerstate: corrupt snapshot")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot encodes the state as of log offset nextOffset: the state after
// applying every batch below nextOffset.
func (s *State) Snapshot(nextOffset int64) []byte {
	buf := make([]byte, 0, headerSize+len(s.producers)*(producerSize+batchesToRetain*batchSize))
	buf = putU8(buf, snapshotVersion)
	buf = putU32(buf, 0) // crc, filled in below
	buf = putI64(buf, nextOffset)
	buf = putU32(buf, uint32(len(s.producers)))
	for _, id := range s.sortedIDs() {
		buf = appendProducer(buf, id, s.producers[id])
	}
	putCRC(buf)
	return buf
}

func appendProducer(buf []byte, id int64, e *entry) []byte {
	buf = putI64(buf, id)
	buf = putI16(buf, e.epoch)
	buf = putI64(buf, e.lastTimestamp)
	buf = putI64(buf, e.txnFirst)
	buf = putI32(buf, e.coordinatorEpoch)
	buf = putU8(buf, uint8(len(e.batches)))
	for _, m := range e.batches {
		buf = appendBatch(buf, m)
	}
	return buf
}

func appendBatch(buf []byte, m batchMeta) []byte {
	buf = putI32(buf, m.FirstSeq)
	buf = putI32(buf, m.LastSeq)
	buf = putI64(buf, m.FirstOffset)
	buf = putI64(buf, m.LastOffset)
	buf = putI64(buf, m.Timestamp)
	var flags uint8
	if m.Transactional {
		flags |= flagTransactional
	}
	return putU8(buf, flags)
}

// snapshotCRC covers the version byte too, so a flipped version cannot pass as
// another valid version's data.
func snapshotCRC(data []byte) uint32 {
	c := crc32.Update(0, castagnoli, data[:1])
	return crc32.Update(c, castagnoli, data[5:])
}

func putCRC(data []byte) {
	c := snapshotCRC(data)
	data[1], data[2], data[3], data[4] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
}

// Restore decodes a snapshot and returns the state with the offset it covers
// up to; the caller replays (Apply) every batch from that offset on. Any
// corruption, truncation, trailing data or unknown version is an error
// wrapping ErrCorruptSnapshot. Restore does not expire anything: the caller
// calls Expire with its current time, as Kafka drops expired producers on
// loading a snapshot.
func Restore(data []byte, cfg Config) (*State, int64, error) {
	if err := verifyEnvelope(data); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrCorruptSnapshot, err)
	}
	s, next, err := decodeBody(data[5:], data[0], cfg)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrCorruptSnapshot, err)
	}
	return s, next, nil
}

// verifyEnvelope checks version and checksum before any field is trusted.
func verifyEnvelope(data []byte) error {
	if len(data) < headerSize {
		return fmt.Errorf("%d bytes, shorter than the %d-byte header", len(data), headerSize)
	}
	if data[0] != snapshotVersion && data[0] != 1 {
		return fmt.Errorf("unknown version %d", data[0])
	}
	r := reader{b: data[1:5]}
	if stored, actual := r.u32(), snapshotCRC(data); stored != actual {
		return fmt.Errorf("crc mismatch: stored %08x, computed %08x", stored, actual)
	}
	return nil
}

func decodeBody(body []byte, version uint8, cfg Config) (*State, int64, error) {
	r := reader{b: body}
	next := r.i64()
	count := r.u32()
	if r.err != nil {
		return nil, 0, r.err
	}
	// Every producer takes at least its fixed fields, so a count the
	// remaining bytes cannot hold is rejected before anything is allocated.
	if uint64(count) > uint64(len(r.b))/producerSizeV1 {
		return nil, 0, fmt.Errorf("count %d does not fit in %d bytes", count, len(r.b))
	}
	s := New(cfg)
	prev := int64(-1)
	for i := uint32(0); i < count; i++ {
		id, e, err := decodeProducer(&r, version)
		if err != nil {
			return nil, 0, fmt.Errorf("producer %d: %w", i, err)
		}
		if id <= prev {
			return nil, 0, fmt.Errorf("producer %d: id %d not above %d", i, id, prev)
		}
		prev = id
		s.producers[id] = e
		if e.txnFirst != noOffset {
			s.open[id] = e.txnFirst
		}
	}
	if len(r.b) != 0 {
		return nil, 0, fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return s, next, nil
}

func decodeProducer(r *reader, version uint8) (int64, *entry, error) {
	id := r.i64()
	e := &entry{epoch: r.i16(), lastTimestamp: r.i64(), txnFirst: noOffset, coordinatorEpoch: -1}
	minBatches := 1
	if version >= 2 {
		e.txnFirst, e.coordinatorEpoch = r.i64(), r.i32()
		minBatches = 0
	}
	n := int(r.u8())
	if r.err != nil {
		return 0, nil, r.err
	}
	if n < minBatches || n > batchesToRetain {
		return 0, nil, fmt.Errorf("%d batches, want %d..%d", n, minBatches, batchesToRetain)
	}
	if e.txnFirst < noOffset || e.coordinatorEpoch < -1 {
		return 0, nil, fmt.Errorf("transaction start %d, coordinator epoch %d", e.txnFirst, e.coordinatorEpoch)
	}
	e.batches = make([]batchMeta, 0, batchesToRetain)
	for j := 0; j < n; j++ {
		m, err := decodeBatch(r)
		if err != nil {
			return 0, nil, fmt.Errorf("batch %d: %w", j, err)
		}
		e.batches = append(e.batches, m)
	}
	return id, e, nil
}

func decodeBatch(r *reader) (batchMeta, error) {
	m := batchMeta{
		FirstSeq:    r.i32(),
		LastSeq:     r.i32(),
		FirstOffset: r.i64(),
		LastOffset:  r.i64(),
		Timestamp:   r.i64(),
	}
	flags := r.u8()
	if r.err != nil {
		return batchMeta{}, r.err
	}
	if flags&^flagTransactional != 0 {
		return batchMeta{}, fmt.Errorf("unknown flags %#x", flags)
	}
	m.Transactional = flags&flagTransactional != 0
	return m, nil
}
