package tests

import (
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/brokertest"
	"sluice/internal/recordbatch"
)

// rec is one record of plainBatch; a nil key is a keyless record.
type rec struct {
	key, value []byte
	ts         int64
}

// plainBatch builds an uncompressed batch without a producer, each record
// with its own timestamp, as a client would.
func plainBatch(recs ...rec) []byte {
	base, max := recs[0].ts, recs[0].ts
	b := make([]byte, recordbatch.HeaderSize)
	varBytes := func(dst, v []byte) []byte {
		if v == nil {
			return kbin.AppendVarint(dst, -1)
		}
		return kbin.AppendVarintBytes(dst, v)
	}
	for i, r := range recs {
		body := []byte{0} // attributes
		body = kbin.AppendVarlong(body, r.ts-base)
		body = kbin.AppendVarint(body, int32(i))
		body = varBytes(body, r.key)
		body = varBytes(body, r.value)
		body = kbin.AppendVarint(body, 0) // headers
		b = kbin.AppendVarint(b, int32(len(body)))
		b = append(b, body...)
		max = maxOf(max, r.ts)
	}
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12)) // batch length
	b[16] = 2                                            // magic
	binary.BigEndian.PutUint32(b[23:], uint32(len(recs)-1))
	binary.BigEndian.PutUint64(b[27:], uint64(base))
	binary.BigEndian.PutUint64(b[35:], uint64(max))
	binary.BigEndian.PutUint64(b[43:], ^uint64(0)) // no producer
	binary.BigEndian.PutUint16(b[51:], 0xffff)
	binary.BigEndian.PutUint32(b[53:], 0xffffffff)
	binary.BigEndian.PutUint32(b[57:], uint32(len(recs)))
	return withCRC(b)
}

func maxOf(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// withCRC sets the batch's CRC-32C after a change to it.
func withCRC(b []byte) []byte {
	binary.BigEndian.PutUint32(b[17:], recordbatch.Batch(b).ComputeCRC())
	return b
}

// idempotentBatch makes a batch come from producer pid at sequence seq.
func idempotentBatch(b []byte, pid int64, seq int32) []byte {
	b = slices.Clone(b)
	binary.BigEndian.PutUint64(b[43:], uint64(pid))
	binary.BigEndian.PutUint16(b[51:], 0)
	binary.BigEndian.PutUint32(b[53:], uint32(seq))
	return withCRC(b)
}

// Every way a produced batch is refused comes with a message that names
// the reason (Produce v8+, KIP-467), and record-level faults name their
// records by index in the batch (a compacted topic's keyless records, out
// of range timestamps), as Kafka's RecordErrors. v7 gets the same codes,
// and its responses carry neither.
func TestProduceRefusalsSayWhy(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	str := func(s string) *string { return &s }
	plain, compact := topicName(t, "why"), topicName(t, "why-compact")
	small, recent := topicName(t, "why-small"), topicName(t, "why-recent")
	createTopic(t, adm, plain, 1, nil)
	createTopic(t, adm, compact, 1, map[string]*string{"cleanup.policy": str("compact")})
	createTopic(t, adm, small, 1, map[string]*string{"max.message.bytes": str("200")})
	createTopic(t, adm, recent, 1, map[string]*string{
		"message.timestamp.before.max.ms": str("3600000"), "message.timestamp.after.max.ms": str("3600000")})

	now := time.Now().UnixMilli()
	day := int64(24 * time.Hour / time.Millisecond)
	good := plainBatch(rec{[]byte("k"), []byte("v"), now})
	badCRC := slices.Clone(good)
	badCRC[len(badCRC)-2] ^= 0xff
	badCount := slices.Clone(good)
	binary.BigEndian.PutUint32(badCount[57:], 3)
	withCRC(badCount)

	init := kmsg.NewPtrInitProducerIDRequest()
	init.Version = 4
	ir := roundTrip(t, b.Addr(), init).(*kmsg.InitProducerIDResponse)
	if ir.ErrorCode != 0 {
		t.Fatalf("init: code %d", ir.ErrorCode)
	}
	pid := ir.ProducerID
	if r := produceRaw(t, b.Addr(), 12, nil, plain, 0, idempotentBatch(good, pid, 0)); r.ErrorCode != 0 {
		t.Fatalf("sequence 0: code %d", r.ErrorCode)
	}

	for _, c := range []struct {
		name    string
		topic   string
		part    int32
		batch   []byte
		code    int16
		v7Code  int16
		message string   // a part of the error message
		records []string // the records at fault: "index: a part of its message"
	}{
		{"bad CRC", plain, 0, badCRC, kerr.CorruptMessage.Code, kerr.CorruptMessage.Code,
			"corrupt record batch for " + plain + "-0: CRC-32C mismatch: stored 0x", nil},
		{"record count", plain, 0, badCount, kerr.CorruptMessage.Code, kerr.CorruptMessage.Code,
			"record count does not match the records: count 3, last offset delta 0", nil},
		{"keyless records in a compacted topic", compact, 0,
			plainBatch(rec{[]byte("a"), []byte("1"), now}, rec{nil, []byte("2"), now}, rec{[]byte("c"), []byte("3"), now}, rec{nil, []byte("4"), now}),
			kerr.InvalidRecord.Code, kerr.CorruptMessage.Code,
			"2 of the batch's records refused; the first: record 1 has no key",
			[]string{"1: record 1 has no key, which compacted topic partition " + compact + "-0 cannot keep", "3: record 3 has no key"}},
		{"too large", small, 0, plainBatch(rec{nil, make([]byte, 300), now}), kerr.MessageTooLarge.Code, kerr.MessageTooLarge.Code,
			"exceeds max.message.bytes (200)", nil},
		{"timestamps out of range", recent, 0,
			plainBatch(rec{nil, []byte("now"), now}, rec{nil, []byte("old"), now - 2*day}, rec{nil, []byte("new"), now + 2*day}, rec{nil, []byte("none"), -1}),
			kerr.InvalidTimestamp.Code, kerr.InvalidTimestamp.Code,
			"2 of the batch's records refused; the first: record 1 has timestamp",
			[]string{"1: record 1 has timestamp " + itoa(now-2*day) + ", outside [", "2: record 2 has timestamp " + itoa(now+2*day)}},
		{"sequence gap", plain, 0, idempotentBatch(good, pid, 5), kerr.OutOfOrderSequenceNumber.Code, kerr.OutOfOrderSequenceNumber.Code,
			"out of order sequence number for producer " + itoa(pid) + ": 5 (incoming), 0 (last appended)", nil},
		{"unknown partition", plain, 7, good, kerr.UnknownTopicOrPartition.Code, kerr.UnknownTopicOrPartition.Code,
			"no partition " + plain + "-7", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, v := range []int16{8, 12} {
				r := produceRaw(t, b.Addr(), v, nil, c.topic, c.part, c.batch)
				if r.ErrorCode != c.code || r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, c.message) {
					t.Fatalf("v%d: code %d message %v, want code %d and a message with %q", v, r.ErrorCode, str2(r.ErrorMessage), c.code, c.message)
				}
				var got []string
				for _, e := range r.ErrorRecords {
					got = append(got, itoa(int64(e.RelativeOffset))+": "+str2(e.ErrorMessage))
				}
				if len(got) != len(c.records) {
					t.Fatalf("v%d: record errors %q, want %d: %q", v, got, len(c.records), c.records)
				}
				for i, want := range c.records {
					if !strings.HasPrefix(got[i], want) {
						t.Fatalf("v%d: record error %d is %q, want it to start %q", v, i, got[i], want)
					}
				}
			}
			r := produceRaw(t, b.Addr(), 7, nil, c.topic, c.part, c.batch)
			if r.ErrorCode != c.v7Code || r.ErrorMessage != nil || len(r.ErrorRecords) != 0 {
				t.Fatalf("v7: code %d message %v records %v, want code %d alone", r.ErrorCode, str2(r.ErrorMessage), r.ErrorRecords, c.v7Code)
			}
		})
	}
	// Nothing refused was written: the log holds the sequence-0 batch only.
	ends, err := adm.ListEndOffsets(testCtx(t, 10*time.Second), plain, compact, small, recent)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		want := int64(0)
		if o.Topic == plain {
			want = 1
		}
		if o.Offset != want {
			t.Errorf("%s end offset %d, want %d", o.Topic, o.Offset, want)
		}
	})
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func str2(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
