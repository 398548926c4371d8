package txn

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The transaction log holds one record per transition, in Kafka's own
// __transaction_state formats: key version 0 (the transactional id),
// value version 1 (flexible, with the KIP-890 tagged fields). A Dead id is
// a tombstone: the key with no value.

// EncodeRecord returns the key and value of t's record; value is nil for
// Dead.
func EncodeRecord(t Txn) (key, value []byte) {
	k := kmsg.NewTxnMetadataKey()
	k.Version, k.TransactionalID = 0, t.ID
	key = k.AppendTo(nil)
	if t.State == Dead {
		return key, nil
	}
	v := kmsg.NewTxnMetadataValue()
	v.Version = 1
	v.ProducerID, v.ProducerEpoch, v.TimeoutMillis = t.ProducerID, t.Epoch, t.TimeoutMs
	v.State = kmsg.TransactionState(t.State)
	v.LastUpdateTimestamp, v.StartTimestamp = t.UpdateMs, t.StartMs
	v.PreviousProducerID, v.NextProducerID, v.NextProducerEpoch = t.PrevProducerID, t.NextProducerID, -1
	v.ClientTransactionVersion = t.ClientVersion
	for _, tp := range t.Partitions {
		if n := len(v.Topics); n == 0 || v.Topics[n-1].Topic != tp.Topic {
			topic := kmsg.NewTxnMetadataValueTopic()
			topic.Topic = tp.Topic
			v.Topics = append(v.Topics, topic)
		}
		last := &v.Topics[len(v.Topics)-1]
		last.Partitions = append(last.Partitions, tp.Partition)
	}
	return key, v.AppendTo(nil)
}

// DecodeRecord decodes a record of the transaction log. A tombstone gives
// a Dead Txn.
func DecodeRecord(key, value []byte) (Txn, error) {
	k := kmsg.NewTxnMetadataKey()
	if err := k.ReadFrom(key); err != nil {
		return Txn{}, fmt.Errorf("txn: record key: %w", err)
	}
	if k.Version != 0 {
		return Txn{}, fmt.Errorf("txn: record key version %d", k.Version)
	}
	t := Txn{ID: k.TransactionalID, State: Dead, PrevProducerID: -1, NextProducerID: -1, StartMs: -1}
	if value == nil {
		return t, nil
	}
	if err := checkBounds(value); err != nil {
		return Txn{}, fmt.Errorf("txn: record value of %q: %w", t.ID, err)
	}
	v := kmsg.NewTxnMetadataValue()
	if err := v.ReadFrom(value); err != nil {
		return Txn{}, fmt.Errorf("txn: record value of %q: %w", t.ID, err)
	}
	if v.Version < 0 || v.Version > 1 || v.State < 0 || int(v.State) >= len(stateNames) {
		return Txn{}, fmt.Errorf("txn: record value of %q: version %d, state %d", t.ID, v.Version, v.State)
	}
	if State(v.State) == Dead {
		return t, nil // a Dead id carries nothing, however it was written
	}
	t.ProducerID, t.Epoch, t.TimeoutMs, t.State = v.ProducerID, v.ProducerEpoch, v.TimeoutMillis, State(v.State)
	t.UpdateMs, t.StartMs = v.LastUpdateTimestamp, v.StartTimestamp
	t.PrevProducerID, t.NextProducerID, t.ClientVersion = v.PreviousProducerID, v.NextProducerID, v.ClientTransactionVersion
	for _, topic := range v.Topics {
		for _, p := range topic.Partitions {
			t.Partitions = append(t.Partitions, TopicPartition{topic.Topic, p})
		}
	}
	slices.SortFunc(t.Partitions, compareTP)
	t.Partitions = slices.Compact(t.Partitions)
	return t, nil
}

// checkBounds walks a value's layout checking every count against the
// bytes left, before kmsg decodes it: kmsg bounds array lengths but loops
// over a tagged-field count as given, so a damaged count of a few hundred
// million would stall the decoder for seconds. The layout: version,
// producer id, epoch, timeout, state; the topics (compact in version 1),
// each a name and its partitions; two timestamps; then, in version 1, the
// tagged fields of each topic and of the value.
func checkBounds(b []byte) error {
	r := boundsReader{b: b}
	if len(b) < 2 {
		return errShortValue
	}
	flexible := int16(b[0])<<8|int16(b[1]) >= 1
	r.skip(2 + 8 + 2 + 4 + 1)
	topics := r.count(flexible, 2)
	for range topics {
		r.skip(r.strLen(flexible)) // name
		r.skip(4 * r.count(flexible, 4))
		if flexible {
			r.tags()
		}
	}
	r.skip(8 + 8)
	if flexible {
		r.tags()
	}
	return r.err
}

var errShortValue = fmt.Errorf("value shorter than its counts say")

// boundsReader walks a value; the first overrun sticks in err.
type boundsReader struct {
	b   []byte
	err error
}

func (r *boundsReader) skip(n int) {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errShortValue
		r.b = nil
		return
	}
	r.b = r.b[n:]
}

// count reads an array or string length (a compact one in flexible
// versions, where 0 means null) and checks that as many elements of at
// least minSize bytes are left.
func (r *boundsReader) count(flexible bool, minSize int) int {
	var n int64
	if flexible {
		u := r.uvarint()
		n = int64(u) - 1
	} else if len(r.b) >= 4 {
		n = int64(int32(uint32(r.b[0])<<24 | uint32(r.b[1])<<16 | uint32(r.b[2])<<8 | uint32(r.b[3])))
		r.b = r.b[4:]
	} else {
		r.err = errShortValue
	}
	if n <= 0 {
		return 0
	}
	if r.err != nil || n > int64(len(r.b)/minSize) {
		r.err = errShortValue
		r.b = nil
		return 0
	}
	return int(n)
}

// strLen reads a string's length: compact in flexible versions, else an
// int16.
func (r *boundsReader) strLen(flexible bool) int {
	if flexible {
		return r.count(true, 1)
	}
	if r.err != nil || len(r.b) < 2 {
		r.err = errShortValue
		return 0
	}
	n := int(int16(uint16(r.b[0])<<8 | uint16(r.b[1])))
	r.b = r.b[2:]
	return max(n, 0)
}

// tags skips a tagged-field section: a count, then tag, size and bytes.
func (r *boundsReader) tags() {
	n := r.uvarint()
	if n > uint64(len(r.b)/2) {
		r.err = errShortValue
		r.b = nil
		return
	}
	for range n {
		r.uvarint()
		r.skip(int(min(r.uvarint(), uint64(len(r.b)+1))))
	}
}

func (r *boundsReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortValue
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}
