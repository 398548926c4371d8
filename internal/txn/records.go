package txn

import (
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
	v := kmsg.NewTxnMetadataValue()
	if err := v.ReadFrom(value); err != nil {
		return Txn{}, fmt.Errorf("txn: record value of %q: %w", t.ID, err)
	}
	if v.Version < 0 || v.Version > 1 || v.State < 0 || int(v.State) >= len(stateNames) {
		return Txn{}, fmt.Errorf("txn: record value of %q: version %d, state %d", t.ID, v.Version, v.State)
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
