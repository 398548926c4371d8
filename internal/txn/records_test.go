package txn

import (
	"reflect"
	"testing"
)

// FuzzDecodeRecord: a record of the transaction log that decodes encodes
// back to one that decodes to the same state; nothing panics.
func FuzzDecodeRecord(f *testing.F) {
	k, v := EncodeRecord(Txn{ID: "app", ProducerID: 7, Epoch: 3, TimeoutMs: 60000, State: Ongoing,
		Partitions: []TopicPartition{{"a", 0}, {"a", 2}, {"b", 1}}, StartMs: 5, UpdateMs: 6, PrevProducerID: -1, NextProducerID: -1})
	f.Add(k, v)
	f.Add(k, []byte(nil))
	f.Add([]byte{0xff, 0xff}, []byte{0, 0, 0xff})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		got, err := DecodeRecord(key, value)
		if err != nil {
			return
		}
		k2, v2 := EncodeRecord(got)
		again, err := DecodeRecord(k2, v2)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("round trip changed the state:\n%+v\n%+v", got, again)
		}
	})
}
