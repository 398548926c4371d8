package txn

import (
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
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

// Both value versions Kafka writes pass the bounds walk: version 0 (the
// classic encoding) and version 1 (flexible), with topics.
func TestCheckBoundsAcceptsBothVersions(t *testing.T) {
	txn := Txn{ID: "app", ProducerID: 7, Epoch: 3, TimeoutMs: 60000, State: Ongoing,
		Partitions: []TopicPartition{{"a", 0}, {"a", 2}, {"bb", 1}}, StartMs: 5, UpdateMs: 6, PrevProducerID: 4, NextProducerID: -1, ClientVersion: 2}
	_, v1 := EncodeRecord(txn)
	v := kmsg.NewTxnMetadataValue()
	if err := v.ReadFrom(v1); err != nil {
		t.Fatal(err)
	}
	v.Version = 0
	v0 := v.AppendTo(nil)
	for name, value := range map[string][]byte{"v0": v0, "v1": v1} {
		if err := checkBounds(value); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := checkBounds(value[:len(value)-1]); err == nil {
			t.Errorf("%s cut short passed", name)
		}
	}
}
