package group

import (
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzDecodeOffset: a record of the offsets log that decodes encodes back
// to one that decodes the same; nothing panics or stalls (kmsg loops over
// counts as given, so a damaged count must fail fast, not spin).
func FuzzDecodeOffset(f *testing.F) {
	tp := TopicPartition{Topic: "t", Partition: 3}
	r := encodeOffset("g", tp, &Committed{Offset: 42, LeaderEpoch: 1, Metadata: "m", CommitTime: 7})
	f.Add(r.Key, r.Value)
	f.Add(encodeOffset("g", tp, nil).Key, []byte(nil))
	v4 := kmsg.NewOffsetCommitValue()
	v4.Version = 4
	f.Add(r.Key, append(v4.AppendTo(nil)[:len(v4.AppendTo(nil))-1], 0xff, 0xff, 0xff, 0xff, 0x07))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		start := time.Now()
		got, err := decodeOffset(key, value)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("decoding took %v", d)
		}
		if err != nil {
			return
		}
		r := encodeOffset(got.group, got.tp, got.value)
		again, err := decodeOffset(r.Key, r.Value)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", got, again)
		}
	})
}
