package partition

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// DeleteRecords moves the log start within what is readable (KIP-107):
// -1 is the high watermark, below it or past the HW is out of range, a
// lower offset than the current start changes nothing, and reads follow.
func TestDeleteRecords(t *testing.T) {
	p := openOn(t, vfs.NewMem(), 300) // a few batches per segment
	defer p.Close()
	for range 10 {
		appendDurable(t, p, batch())
	}
	segments := p.Segments()
	for _, off := range []int64{-2, -1000, 11} {
		if start, err := p.DeleteRecords(off); !errors.Is(err, ErrOffsetOutOfRange) || start != 0 {
			t.Fatalf("DeleteRecords(%d) = %d, %v; want 0 and out of range", off, start, err)
		}
	}
	if start, err := p.DeleteRecords(4); err != nil || start != 4 {
		t.Fatalf("DeleteRecords(4) = %d, %v", start, err)
	}
	if p.Segments() >= segments {
		t.Fatalf("%d segments before and after: none below the start was deleted", segments)
	}
	if _, err := p.Read(3, 1<<20, nil); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read(3) below the start: %v", err)
	}
	res, err := p.Read(4, 1<<20, nil)
	if err != nil || res.LogStart != 4 || recordbatch.Batch(res.Records).BaseOffset() != 4 {
		t.Fatalf("Read(4): log start %d, %v", res.LogStart, err)
	}
	if start, err := p.DeleteRecords(2); err != nil || start != 4 {
		t.Fatalf("DeleteRecords(2) below the start = %d, %v; want 4", start, err)
	}
	if start, err := p.DeleteRecords(DeleteRecordsToHighWatermark); err != nil || start != 10 {
		t.Fatalf("DeleteRecords(-1) = %d, %v; want the HW 10", start, err)
	}
	if res, err := p.Read(10, 1<<20, nil); err != nil || len(res.Records) != 0 || res.LogStart != 10 {
		t.Fatalf("Read at the HW after deleting everything: %d bytes, start %d, %v", len(res.Records), res.LogStart, err)
	}
}

// A transaction open since before the new start holds the last stable
// offset at the start, not below it (Kafka's first unstable offset); the
// transaction stays open until its marker.
func TestDeleteRecordsHoldsLSOAtTheStart(t *testing.T) {
	p := openOn(t, vfs.NewMem(), 0)
	defer p.Close()
	appendDurable(t, p, batch())           // 0
	appendDurable(t, p, txnBatch(1, 0, 0)) // 1: pid 1 opens
	for range 4 {
		appendDurable(t, p, batch()) // 2-5
	}
	wantLSO(t, p, 1)
	if _, err := p.DeleteRecords(3); err != nil {
		t.Fatal(err)
	}
	wantLSO(t, p, 3)
	if res, err := p.ReadCommitted(3, 1<<20, nil); err != nil || len(res.Records) != 0 || res.LastStableOffset != 3 {
		t.Fatalf("read_committed at the start: %d bytes, LSO %d, %v", len(res.Records), res.LastStableOffset, err)
	}
	appendMarkerDurable(t, p, marker(1, 0, true)) // 6
	wantLSO(t, p, 7)
}

// An idempotent producer whose batches are all below the start is
// remembered (Kafka keeps producer state until it expires): its retry is
// still recognised.
func TestDeleteRecordsKeepsProducerState(t *testing.T) {
	p := openOn(t, vfs.NewMem(), 0)
	defer p.Close()
	for seq := range int32(3) {
		appendDurable(t, p, idemBatch(7, 0, seq)) // 0-2
	}
	appendDurable(t, p, batch()) // 3
	if _, err := p.DeleteRecords(4); err != nil {
		t.Fatal(err)
	}
	if res, err := p.Append(idemBatch(7, 0, 2)); err != nil || !res.Duplicate || res.BaseOffset != 2 {
		t.Fatalf("retry of seq 2: %+v, %v", res, err)
	}
}

// A long poll waiting on the partition is woken, so a fetch below the new
// start is answered now, not at its max wait.
func TestDeleteRecordsWakesWatchers(t *testing.T) {
	p := openOn(t, vfs.NewMem(), 0)
	defer p.Close()
	appendDurable(t, p, batch())
	ch := make(chan struct{}, 1)
	p.Watch(ch)
	defer p.Unwatch(ch)
	if _, err := p.DeleteRecords(1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("DeleteRecords did not wake the watcher")
	}
}

// ListOffsets by time answers from the log start: a record below it never
// qualifies, even in the batch that holds the start.
func TestOffsetForTimestampFromLogStart(t *testing.T) {
	p := openOn(t, vfs.NewMem(), 0)
	defer p.Close()
	appendDurable(t, p, timedBatch(3000, 1000, 1000)) // 0-2
	appendDurable(t, p, timedBatch(2000))             // 3
	if off, ts, ok, err := p.OffsetForTimestamp(1500, false); err != nil || !ok || off != 0 || ts != 3000 {
		t.Fatalf("before DeleteRecords: %d@%d %v %v; want 0@3000", off, ts, ok, err)
	}
	if _, err := p.DeleteRecords(1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ ts, off, at int64 }{
		{1500, 3, 2000}, // record 0 qualifies but is below the start
		{500, 1, 1000},
		{2500, -1, -1},
	} {
		off, ts, ok, err := p.OffsetForTimestamp(c.ts, false)
		if err != nil || ok != (c.off >= 0) || off != c.off || ts != c.at {
			t.Errorf("OffsetForTimestamp(%d) = %d@%d %v %v; want %d@%d", c.ts, off, ts, ok, err, c.off, c.at)
		}
	}
}

// timedBatch builds an uncompressed batch of one record per timestamp.
func timedBatch(tss ...int64) recordbatch.Batch {
	var recs []byte
	for i, ts := range tss {
		r := kmsg.Record{TimestampDelta64: ts - tss[0], OffsetDelta: int32(i), Value: []byte("v")}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // the zero length took one byte
		recs = r.AppendTo(recs)
	}
	rb := kmsg.RecordBatch{Magic: 2, LastOffsetDelta: int32(len(tss) - 1), FirstTimestamp: tss[0],
		MaxTimestamp: slices.Max(tss), ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: int32(len(tss)), Records: recs}
	b := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:], recordbatch.Batch(b).ComputeCRC())
	return b
}
