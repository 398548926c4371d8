package partition

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// txnBatch is idemBatch with the transactional attribute.
func txnBatch(pid int64, epoch int16, seq int32) recordbatch.Batch {
	b := idemBatch(pid, epoch, seq)
	attrs := binary.BigEndian.Uint16(b[21:]) | recordbatch.AttrTransactional
	binary.BigEndian.PutUint16(b[21:], attrs)
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func marker(pid int64, epoch int16, commit bool) recordbatch.ControlMarker {
	return recordbatch.ControlMarker{ProducerID: pid, Epoch: epoch, Commit: commit, CoordinatorEpoch: 1, Timestamp: 5}
}

func appendMarkerDurable(t *testing.T, p *Partition, m recordbatch.ControlMarker) AppendResult {
	t.Helper()
	res, err := p.AppendMarker(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitDurable(t.Context(), res.NextOffset); err != nil {
		t.Fatal(err)
	}
	return res
}

func wantLSO(t *testing.T, p *Partition, want int64) {
	t.Helper()
	if got := p.LastStableOffset(); got != want {
		t.Fatalf("LSO %d, want %d (HW %d)", got, want, p.HighWatermark())
	}
}

// The LSO stays at the first offset of the oldest undecided transaction,
// moves when its marker is durable, and is the HW with nothing open.
func TestLastStableOffset(t *testing.T) {
	p := openOn(t, vfs.NewMem(), 0)
	defer p.Close()
	appendDurable(t, p, batch()) // 0: plain
	wantLSO(t, p, 1)
	appendDurable(t, p, txnBatch(1, 0, 0)) // 1: pid 1 opens
	appendDurable(t, p, batch())           // 2
	appendDurable(t, p, txnBatch(2, 0, 0)) // 3: pid 2 opens
	appendDurable(t, p, txnBatch(1, 0, 1)) // 4
	wantLSO(t, p, 1)
	if res := appendMarkerDurable(t, p, marker(1, 0, true)); res.BaseOffset != 5 {
		t.Fatalf("marker at %d", res.BaseOffset)
	}
	wantLSO(t, p, 3)
	appendMarkerDurable(t, p, marker(2, 0, false)) // 6
	wantLSO(t, p, 7)
	if got := p.HighWatermark(); got != 7 {
		t.Fatalf("HW %d", got)
	}
}

// A marker appended but not yet durable does not release the LSO: a
// consumer must not read a transaction whose decision a crash can undo.
func TestLSOWaitsForTheMarkerToBeDurable(t *testing.T) {
	fail := make(chan struct{})
	mem := vfs.NewMem()
	fsys := vfs.NewErrorFS(mem, func(op, name string) error {
		select {
		case <-fail:
			if op == vfs.OpSync {
				return errors.New("injected fsync failure")
			}
		default:
		}
		return nil
	})
	p := openOn(t, fsys, 0)
	defer p.Close()
	appendDurable(t, p, txnBatch(1, 0, 0))
	close(fail)
	res, err := p.AppendMarker(marker(1, 0, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitDurable(t.Context(), res.NextOffset); err == nil {
		t.Fatal("marker became durable despite the failing fsync")
	}
	wantLSO(t, p, 0)
}

// Markers of a stale epoch are refused; the open transaction stays open.
func TestStaleMarkerIsRefused(t *testing.T) {
	p := openOn(t, vfs.NewMem(), 0)
	defer p.Close()
	appendDurable(t, p, txnBatch(1, 3, 0))
	_, err := p.AppendMarker(marker(1, 2, false))
	var pe *ProducerError
	if !errors.As(err, &pe) || pe.Code != 47 { // INVALID_PRODUCER_EPOCH
		t.Fatalf("stale marker: %v", err)
	}
	wantLSO(t, p, 0)
}

// After a restart, with the snapshot of a clean shutdown or after a crash
// (replay of the log, markers included), open transactions hold the LSO
// where they did.
func TestOpenTransactionsSurviveRestart(t *testing.T) {
	for _, crash := range []bool{false, true} {
		mem := vfs.NewMem()
		p := openOn(t, mem, 0)
		appendDurable(t, p, txnBatch(1, 0, 0))         // 0
		appendDurable(t, p, txnBatch(2, 0, 0))         // 1
		appendMarkerDurable(t, p, marker(1, 0, false)) // 2
		appendDurable(t, p, batch())                   // 3
		fsys := mem
		if crash {
			fsys = mem.CrashClone()
		} else {
			p.Close()
		}
		p2 := openOn(t, fsys, 0)
		wantLSO(t, p2, 1)
		if got := p2.Producers(); len(got) != 2 || got[0].CurrentTxnStartOffset != -1 || got[1].CurrentTxnStartOffset != 1 {
			t.Fatalf("crash=%v: producers %+v", crash, got)
		}
		appendMarkerDurable(t, p2, marker(2, 0, true))
		wantLSO(t, p2, 5)
		p2.Close()
		if !crash {
			continue
		}
		p.Close()
	}
}
