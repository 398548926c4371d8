package commitlog

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"sluice/internal/vfs"
)

func TestRetentionBySize(t *testing.T) {
	m := vfs.NewMem()
	l := openLog(t, m, Config{SegmentBytes: 2 * testBatchSize, RetentionBytes: 3 * testBatchSize, RetentionAge: -1})
	batches := appendN(t, l, 9, t0) // segments at 0, 6, 12, 18, 24 (last holds one batch)
	if l.Segments() != 5 || l.Size() != 9*testBatchSize {
		t.Fatalf("Segments %d Size %d", l.Segments(), l.Size())
	}
	// 9 batches, limit 3: drop while total-segment >= limit: 9->7->5->3, stop.
	n, err := l.EnforceRetention(t0)
	if err != nil || n != 3 {
		t.Fatalf("EnforceRetention = %d, %v; want 3", n, err)
	}
	if l.StartOffset() != 18 || l.Segments() != 2 || l.Size() != 3*testBatchSize {
		t.Fatalf("after retention start %d segments %d size %d", l.StartOffset(), l.Segments(), l.Size())
	}
	if _, err := l.Read(17, 27, 1000, nil); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read below start: %v", err)
	}
	if got := readAll(t, l, 18); !bytes.Equal(got, concat(batches[6:])) {
		t.Fatal("remaining batches differ")
	}
	names, _ := m.ReadDir(testDir)
	if !equalStrings(names, []string{
		"00000000000000000018.index", "00000000000000000018.log", "00000000000000000018.timeindex",
		"00000000000000000024.log", "leader-epoch.checkpoint",
	}) {
		t.Fatalf("files after retention: %v", names)
	}
	// The deletion is durable without a Sync.
	if names, _ := m.CrashClone().ReadDir(testDir); len(names) != 5 {
		t.Fatalf("files after crash: %v", names)
	}
	// Nothing more to do; the active segment is never deleted.
	l.SetConfig(Config{SegmentBytes: 2 * testBatchSize, RetentionBytes: 1, RetentionAge: -1})
	n, err = l.EnforceRetention(t0)
	if err != nil || n != 1 || l.StartOffset() != 24 || l.Segments() != 1 {
		t.Fatalf("second retention = %d, %v; start %d segments %d", n, err, l.StartOffset(), l.Segments())
	}
	n, _ = l.EnforceRetention(t0)
	if n != 0 || l.Segments() != 1 {
		t.Fatalf("deleted the active segment")
	}
}

func TestRetentionByAgeKeepsNextOffsetAcrossRestart(t *testing.T) {
	m := vfs.NewMem()
	cfg := Config{SegmentBytes: 2 * testBatchSize, RetentionAge: time.Hour}
	l := openLog(t, m, cfg)
	// Timestamps: batch i has max timestamp 1000*(i+1) ms.
	appendN(t, l, 6, t0)
	// Segments: [0,6) ts<=2000, [6,12) ts<=4000, [12,18) ts<=6000 (active).
	now := time.UnixMilli(4000).Add(time.Hour) // cutoff 4000: only ts < 4000 expire
	n, err := l.EnforceRetention(now)
	if err != nil || n != 1 || l.StartOffset() != 6 {
		t.Fatalf("EnforceRetention = %d, %v; start %d", n, err, l.StartOffset())
	}
	n, err = l.EnforceRetention(now.Add(time.Hour))
	if err != nil || n != 1 || l.StartOffset() != 12 || l.Segments() != 1 {
		t.Fatalf("EnforceRetention = %d, %v; start %d segments %d", n, err, l.StartOffset(), l.Segments())
	}
	// Roll an empty-data situation: the log end must survive a restart.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, m, cfg)
	if l.StartOffset() != 12 || l.NextOffset() != 18 {
		t.Fatalf("after restart start %d next %d", l.StartOffset(), l.NextOffset())
	}
	// Batches without timestamps (-1) never expire by age.
	if err := l.Append(makeBatch(18, 1, -1, 0), t0); err != nil { // rolls: segment [18,19)
		t.Fatal(err)
	}
	l.SetConfig(Config{SegmentBytes: 1, RetentionAge: time.Hour})
	appendN(t, l, 1, t0) // rolls: segment [19,22), active
	if n, _ := l.EnforceRetention(now.Add(1000 * time.Hour)); n != 1 || l.StartOffset() != 18 || l.Segments() != 2 {
		t.Fatalf("age retention removed %d, start %d, %d segments; want 1, 18, 2", n, l.StartOffset(), l.Segments())
	}
	// Unlimited retention deletes nothing.
	l.SetConfig(Config{RetentionAge: -1, RetentionBytes: -1})
	appendN(t, l, 4, t0)
	if n, _ := l.EnforceRetention(now.Add(2000 * time.Hour)); n != 0 {
		t.Fatalf("unlimited retention deleted %d", n)
	}
}
