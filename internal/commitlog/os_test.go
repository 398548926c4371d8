package commitlog

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"sluice/internal/vfs"
)

func TestRealFileSystem(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t-0")
	cfg := Config{SegmentBytes: 4 * testBatchSize}
	l, err := Open(vfs.OS(), dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	batches := appendN(t, l, 10, t0)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Tear the tail.
	last := filepath.Join(dir, fileName(24, logSuffix))
	if err := os.Truncate(last, 2*testBatchSize-1); err != nil {
		t.Fatal(err)
	}
	l, err = Open(vfs.OS(), dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.NextOffset() != 27 || l.Segments() != 3 || !bytes.Equal(readAll(t, l, 0), concat(batches[:9])) {
		t.Fatalf("next %d segments %d", l.NextOffset(), l.Segments())
	}
	appendN(t, l, 2, t0)
	checkWhole(t, readAll(t, l, 0), 0, 33)
}
