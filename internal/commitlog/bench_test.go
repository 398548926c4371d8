package commitlog

import (
	"testing"

	"sluice/internal/vfs"
)

func BenchmarkAppend(b *testing.B) {
	l, err := Open(vfs.OS(), b.TempDir(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	batch := makeBatch(0, 10, 1, 1000)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		next := l.NextOffset()
		batch := batch
		frameSetBase(batch, next)
		if err := l.Append(batch, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	l, err := Open(vfs.OS(), b.TempDir(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	for i := range 10000 {
		if err := l.Append(makeBatch(int64(i*10), 10, int64(i), 1000), t0); err != nil {
			b.Fatal(err)
		}
	}
	buf := make([]byte, 0, 1<<20)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		off := int64(i*7919) % l.NextOffset()
		i++
		var err error
		if buf, err = l.Read(off, l.NextOffset(), 64<<10, buf[:0]); err != nil || len(buf) == 0 {
			b.Fatal(err)
		}
	}
}

// frameSetBase rewrites the base offset, which is outside the CRC.
func frameSetBase(b []byte, base int64) { recordbatchBatch(b).SetBaseOffset(base) }
