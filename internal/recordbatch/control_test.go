package recordbatch

import "testing"

// A marker built here reads back, passes validation, and has the bytes
// Kafka writes: key version 0 and type, value version 0 and epoch.
func TestControlMarkerRoundTrip(t *testing.T) {
	for _, commit := range []bool{false, true} {
		in := ControlMarker{ProducerID: 42, Epoch: 7, Commit: commit, CoordinatorEpoch: 3, Timestamp: 1234}
		b := Batch(BuildControl(nil, in))
		if _, err := Frame(b); err != nil {
			t.Fatalf("frame: %v", err)
		}
		if !b.IsControl() || !b.IsTransactional() || b.ProducerID() != 42 || b.ProducerEpoch() != 7 {
			t.Fatalf("header: control=%v txn=%v pid=%d epoch=%d", b.IsControl(), b.IsTransactional(), b.ProducerID(), b.ProducerEpoch())
		}
		out, err := b.Marker()
		if err != nil || out != in {
			t.Fatalf("marker %+v %v, want %+v", out, err, in)
		}
		var key, value []byte
		b.EachRecord(func(_ int64, k, v []byte) bool { key, value = k, v; return false })
		wantKey := []byte{0, 0, 0, 0}
		if commit {
			wantKey[3] = 1
		}
		if string(key) != string(wantKey) || string(value) != string([]byte{0, 0, 0, 0, 0, 3}) {
			t.Fatalf("marker record key %x value %x", key, value)
		}
	}
}

func TestMarkerOfADataBatchIsRefused(t *testing.T) {
	b := Batch(Build(nil, []Record{{Key: []byte{0, 0, 0, 1}, Value: []byte("v")}}, 1, AttrTransactional))
	if _, err := b.Marker(); err == nil {
		t.Fatal("a data batch decoded as a marker")
	}
}
