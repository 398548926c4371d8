package recordbatch

import (
	"slices"
	"testing"
)

// KeylessRecords names every record without a key by its index, and
// nothing (nil) for a batch whose records all have keys.
func TestKeylessRecords(t *testing.T) {
	keyed := Build(nil, []Record{{Key: []byte("a")}, {Key: []byte("b")}}, 0, 0)
	if got, err := Batch(keyed).KeylessRecords(); err != nil || got != nil {
		t.Fatalf("all keyed: %v %v, want nil", got, err)
	}
	mixed := Build(nil, []Record{{Key: []byte("a")}, {Value: []byte("1")}, {Key: []byte("c")}, {Value: []byte("3")}}, 0, 0)
	if got, err := Batch(mixed).KeylessRecords(); err != nil || !slices.Equal(got, []int32{1, 3}) {
		t.Fatalf("mixed: %v %v, want [1 3]", got, err)
	}
}
