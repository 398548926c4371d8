package producerstate

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// sampleState has producers with one and with five batches, a transactional
// batch and extreme values, so every field of the format is exercised.
func sampleState() *State {
	s := New(Config{})
	for i := int32(0); i < 7; i++ {
		s.Apply(Batch{ProducerID: 100, Epoch: 2, BaseSequence: 3 * i, RecordCount: 3,
			FirstOffset: int64(10 * i), LastOffset: int64(10*i + 2), MaxTimestamp: int64(1000 + i), Transactional: i == 4})
	}
	s.Apply(Batch{ProducerID: 0, Epoch: -1, BaseSequence: 2147483647, RecordCount: 2, FirstOffset: 99, LastOffset: 100, MaxTimestamp: -1})
	s.Apply(Batch{ProducerID: 1<<63 - 1, Epoch: 32767, BaseSequence: 0, RecordCount: 1, FirstOffset: 1<<63 - 1, LastOffset: 1<<63 - 1, MaxTimestamp: -1 << 63})
	return s
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := sampleState()
	data := s.Snapshot(12345)
	got, next, err := Restore(data, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if next != 12345 {
		t.Errorf("next offset %d, want 12345", next)
	}
	if a, b := dump(got), dump(s); !slices.Equal(a, b) {
		t.Errorf("restored %q\nsaved    %q", a, b)
	}
	if !bytes.Equal(got.Snapshot(12345), data) {
		t.Error("re-encoding differs")
	}
	if !bytes.Equal(s.Snapshot(12345), data) {
		t.Error("encoding is not deterministic")
	}
}

func TestRestoreKeepsConfig(t *testing.T) {
	s := New(Config{})
	s.Apply(Batch{ProducerID: 1, RecordCount: 1, MaxTimestamp: 0})
	got, _, err := Restore(s.Snapshot(1), Config{ExpirationMs: 10})
	if err != nil {
		t.Fatal(err)
	}
	if ids := got.Expire(10); !slices.Equal(ids, []int64{1}) {
		t.Errorf("expired %v, want [1]: restored state must use the given config", ids)
	}
}

func wantCorrupt(t *testing.T, what string, data []byte) {
	t.Helper()
	s, _, err := Restore(data, Config{})
	if err == nil {
		t.Errorf("%s: restored %q, want an error", what, dump(s))
		return
	}
	if !errors.Is(err, ErrCorruptSnapshot) {
		t.Errorf("%s: error %v does not wrap ErrCorruptSnapshot", what, err)
	}
	if s != nil {
		t.Errorf("%s: non-nil state with an error", what)
	}
	if testing.Verbose() {
		t.Logf("%s: %v", what, err)
	}
}

func TestRestoreRejectsTruncation(t *testing.T) {
	data := sampleState().Snapshot(7)
	for n := 0; n < len(data); n++ {
		wantCorrupt(t, "truncated", data[:n])
	}
	wantCorrupt(t, "nil", nil)
}

// CRC-32C detects every single-bit error, so every flip must be caught.
func TestRestoreRejectsEveryBitFlip(t *testing.T) {
	data := sampleState().Snapshot(7)
	for i := range data {
		for bit := 0; bit < 8; bit++ {
			c := bytes.Clone(data)
			c[i] ^= 1 << bit
			wantCorrupt(t, "bit flip", c)
		}
	}
}

// Trailing bytes are outside no field: the CRC runs to the end, so appending
// anything breaks it, and the decoder also insists on consuming every byte.
func TestRestoreRejectsTrailingGarbage(t *testing.T) {
	data := sampleState().Snapshot(7)
	for _, tail := range [][]byte{{0}, {1, 2, 3}, data} {
		wantCorrupt(t, "garbage appended", append(bytes.Clone(data), tail...))
	}
}

func TestRestoreRejectsUnknownVersion(t *testing.T) {
	data := New(Config{}).Snapshot(0)
	for _, v := range []byte{0, 3, 255} {
		c := bytes.Clone(data)
		c[0] = v
		putCRC(c) // a well-formed snapshot of a version we do not know
		s, _, err := Restore(c, Config{})
		if err == nil || !strings.Contains(err.Error(), "unknown version") {
			t.Errorf("version %d: got %v, %v; want unknown version", v, s, err)
		}
	}
}

// Well-checksummed but non-canonical bodies (as a buggy writer could produce)
// are rejected too: the decoder checks structure, not only the CRC.
func TestRestoreRejectsMalformedBody(t *testing.T) {
	batch := func(b []byte, flags uint8) []byte {
		b = putI32(b, 0)
		b = putI32(b, 0)
		b = putI64(b, 0)
		b = putI64(b, 0)
		b = putI64(b, 0)
		return putU8(b, flags)
	}
	txnFirst := int64(-1)
	producer := func(b []byte, id int64, nbatches int, flags uint8) []byte {
		b = putI64(b, id)
		b = putI16(b, 0)
		b = putI64(b, 0)
		b = putI64(b, txnFirst)
		b = putI32(b, -1)
		b = putU8(b, uint8(nbatches))
		for i := 0; i < nbatches; i++ {
			b = batch(b, flags)
		}
		return b
	}
	build := func(count uint32, body func([]byte) []byte) []byte {
		b := putU8(nil, snapshotVersion)
		b = putU32(b, 0)
		b = putI64(b, 0)
		b = putU32(b, count)
		b = body(b)
		putCRC(b)
		return b
	}
	valid := build(2, func(b []byte) []byte { return producer(producer(b, 1, 1, 0), 2, 5, 1) })
	if _, _, err := Restore(valid, Config{}); err != nil {
		t.Fatalf("control case: %v", err)
	}
	cases := map[string][]byte{
		"ids descending":    build(2, func(b []byte) []byte { return producer(producer(b, 2, 1, 0), 1, 1, 0) }),
		"id repeated":       build(2, func(b []byte) []byte { return producer(producer(b, 1, 1, 0), 1, 1, 0) }),
		"negative id":       build(1, func(b []byte) []byte { return producer(b, -1, 1, 0) }),
		"no batches, count": build(1, func(b []byte) []byte { return producer(producer(b, 1, 0, 0), 2, 1, 0) }),
		"six batches":       build(1, func(b []byte) []byte { return producer(b, 1, 6, 0) }),
		"unknown flag":      build(1, func(b []byte) []byte { return producer(b, 1, 1, 2) }),
		"count too high":    build(2, func(b []byte) []byte { return producer(b, 1, 1, 0) }),
		"count too low":     build(1, func(b []byte) []byte { return producer(producer(b, 1, 1, 0), 2, 1, 0) }),
		"huge count":        build(1<<32-1, func(b []byte) []byte { return producer(b, 1, 1, 0) }),
		"truncated record":  build(2, func(b []byte) []byte { return producer(b, 1, 5, 0) }),
		"trailing byte":     build(1, func(b []byte) []byte { return append(producer(b, 1, 1, 0), 0) }),
	}
	txnFirst = -2
	cases["transaction start below -1"] = build(1, func(b []byte) []byte { return producer(b, 1, 1, 0) })
	for name, data := range cases {
		wantCorrupt(t, name, data)
	}
}

// A version-1 snapshot, written before transactions were tracked, is read:
// no producer has an open transaction.
func TestRestoreReadsVersion1(t *testing.T) {
	b := putU8(nil, 1)
	b = putU32(b, 0)
	b = putI64(b, 40)
	b = putU32(b, 1)
	b = putI64(b, 7)   // producer id
	b = putI16(b, 2)   // epoch
	b = putI64(b, 100) // last timestamp
	b = putU8(b, 1)
	b = putI32(b, 0)
	b = putI32(b, 4)
	b = putI64(b, 30)
	b = putI64(b, 34)
	b = putI64(b, 100)
	b = putU8(b, 0)
	putCRC(b)
	s, next, err := Restore(b, Config{})
	if err != nil || next != 40 {
		t.Fatalf("restore v1: %v, next %d", err, next)
	}
	if got := dump(s); !slices.Equal(got, []string{"pid=7 epoch=2 lastts=100 [seq=0..4@30..34/ts=100]"}) {
		t.Fatalf("v1 state %q", got)
	}
	if _, open := s.FirstUnstableOffset(); open {
		t.Fatal("a v1 snapshot opened a transaction")
	}
}

// A state rebuilt from a snapshot plus replay of the batches after it must
// equal the state built by replaying everything, wherever the snapshot falls.
func TestSnapshotPlusReplayEqualsFullReplay(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	batches := randomLog(rng, 300)
	full := New(Config{})
	for _, b := range batches {
		full.Apply(b)
	}
	for cut := 0; cut <= len(batches); cut += 7 {
		s := New(Config{})
		for _, b := range batches[:cut] {
			s.Apply(b)
		}
		restored, next, err := Restore(s.Snapshot(int64(cut)), Config{})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range batches[next:] {
			restored.Apply(b)
		}
		if a, b := dump(restored), dump(full); !slices.Equal(a, b) {
			t.Fatalf("cut %d: rebuilt %q\nfull %q", cut, a, b)
		}
	}
}

// randomLog is a log of batches from a few producers, mostly well-behaved, with
// epoch bumps, gaps and stale epochs mixed in as a log from elsewhere may hold.
func randomLog(rng *rand.Rand, n int) []Batch {
	type prod struct {
		epoch int16
		seq   int32
	}
	prods := map[int64]*prod{}
	var out []Batch
	for i := 0; i < n; i++ {
		id := rng.Int64N(6)
		p, ok := prods[id]
		if !ok {
			p = &prod{}
			prods[id] = p
		}
		switch rng.IntN(10) {
		case 0:
			p.epoch++
			p.seq = 0
		case 1:
			p.seq += rng.Int32N(5)
		}
		epoch := p.epoch
		if rng.IntN(20) == 0 {
			epoch--
		}
		count := 1 + rng.Int32N(4)
		out = append(out, Batch{ProducerID: id, Epoch: epoch, BaseSequence: p.seq, RecordCount: count,
			FirstOffset: int64(i), LastOffset: int64(i), MaxTimestamp: int64(i * 10), Transactional: rng.IntN(3) == 0})
		p.seq = lastSequence(p.seq, count) + 1
	}
	return out
}

// FuzzRestore: no input makes Restore panic, anything it accepts re-encodes to
// exactly the same bytes (the format is canonical), and a valid snapshot with
// anything appended is rejected.
func FuzzRestore(f *testing.F) {
	f.Add(sampleState().Snapshot(7))
	f.Add(New(Config{}).Snapshot(0))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, next, err := Restore(data, Config{})
		if err != nil {
			if !errors.Is(err, ErrCorruptSnapshot) {
				t.Fatalf("error %v does not wrap ErrCorruptSnapshot", err)
			}
			return
		}
		again := s.Snapshot(next)
		if !bytes.Equal(again, data) {
			t.Fatalf("accepted %x but it re-encodes as %x", data, again)
		}
		if _, _, err := Restore(append(bytes.Clone(data), 0), Config{}); err == nil {
			t.Fatal("accepted a valid snapshot with a byte appended")
		}
	})
}
