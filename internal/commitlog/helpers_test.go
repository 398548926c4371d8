package commitlog

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"sync"
	"testing"
	"time"

	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

const testDir = "/data/topic-0"

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// makeBatch builds a valid magic-2 batch of records offsets [base,
// base+records) whose max timestamp is maxTS, with payload fake record
// bytes (the log never parses records).
func makeBatch(base int64, records int, maxTS int64, payload int) []byte {
	size := recordbatch.HeaderSize + payload
	b := make([]byte, size)
	binary.BigEndian.PutUint64(b[0:], uint64(base))
	binary.BigEndian.PutUint32(b[8:], uint32(size-recordbatch.LengthPrefix))
	b[16] = 2
	binary.BigEndian.PutUint32(b[23:], uint32(records-1))
	binary.BigEndian.PutUint64(b[27:], uint64(maxTS))
	binary.BigEndian.PutUint64(b[35:], uint64(maxTS))
	binary.BigEndian.PutUint64(b[43:], ^uint64(0))
	binary.BigEndian.PutUint32(b[57:], uint32(records))
	for i := recordbatch.HeaderSize; i < size; i++ {
		b[i] = byte(base) + byte(i)
	}
	binary.BigEndian.PutUint32(b[17:], recordbatch.Batch(b).ComputeCRC())
	return b
}

// testBatchSize is the size of the batches appendN makes.
const testBatchSize = recordbatch.HeaderSize + 39

// appendN appends n batches of 3 records each with timestamps 1000,
// 2000, ... continuing from the log end, and returns them.
func appendN(t testing.TB, l *Log, n int, now time.Time) [][]byte {
	t.Helper()
	var out [][]byte
	for range n {
		next := l.NextOffset()
		b := makeBatch(next, 3, 1000*(next/3+1), testBatchSize-recordbatch.HeaderSize)
		if err := l.Append(b, now); err != nil {
			t.Fatalf("append at %d: %v", next, err)
		}
		out = append(out, b)
	}
	return out
}

func openLog(t testing.TB, fsys vfs.FS, cfg Config) *Log {
	t.Helper()
	l, err := Open(fsys, testDir, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func readAll(t testing.TB, l *Log, from int64) []byte {
	t.Helper()
	got, err := l.Read(from, l.NextOffset(), 1<<30, nil)
	if err != nil {
		t.Fatalf("Read(%d): %v", from, err)
	}
	return got
}

// checkWhole asserts that buf is whole valid batches with consecutive
// offsets from first to next, and returns the batch count.
func checkWhole(t testing.TB, buf []byte, first, next int64) int {
	t.Helper()
	n := 0
	want := first
	for len(buf) > 0 {
		b, err := recordbatch.Frame(buf)
		if err != nil {
			t.Fatalf("batch %d: %v", n, err)
		}
		if b.BaseOffset() != want {
			t.Fatalf("batch %d base offset %d, want %d", n, b.BaseOffset(), want)
		}
		want = b.NextOffset()
		buf = buf[len(b):]
		n++
	}
	if want != next {
		t.Fatalf("batches end at %d, want %d", want, next)
	}
	return n
}

// logBuffer captures slog output for assertions; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(b *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func concat(bs [][]byte) []byte { return bytes.Join(bs, nil) }

func frame(buf []byte) (recordbatch.Batch, error) { return recordbatch.Frame(buf) }

func recordbatchBatch(b []byte) recordbatch.Batch { return recordbatch.Batch(b) }
