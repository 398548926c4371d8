package commitlog

import (
	"testing"

	"sluice/internal/vfs"
)

// FuzzRecover writes arbitrary bytes as a segment: Open must not panic and
// whatever survives must read back as whole valid batches.
func FuzzRecover(f *testing.F) {
	good := concat([][]byte{makeBatch(0, 3, 10, 5), makeBatch(3, 1, 20, 0), makeBatch(4, 2, 5, 30)})
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append(append([]byte(nil), good...), 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff))
	f.Add([]byte{})
	f.Add(make([]byte, 100))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := vfs.NewMem()
		m.MkdirAll(testDir)
		w, _ := m.Create(segPath(0, logSuffix))
		w.Write(data)
		w.Close()
		l, err := Open(m, testDir, Config{IndexIntervalBytes: 64})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		next := l.NextOffset()
		got := readAll(t, l, 0)
		checkWhole(t, got, 0, next)
		if int64(len(got)) != l.Size() {
			t.Fatalf("read %d bytes of %d", len(got), l.Size())
		}
		// The log accepts appends after recovery.
		if err := l.Append(makeBatch(next, 1, 1, 0), t0); err != nil {
			t.Fatal(err)
		}
	})
}
