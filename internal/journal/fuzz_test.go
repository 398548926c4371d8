package journal

import (
	"bytes"
	"errors"
	"path"
	"testing"

	"sluice/internal/vfs"
)

// Recover reads any bytes without panicking. As the last file they are
// never refused (whatever does not read is a torn tail); as a file before
// the last they are either read whole or refused as damage; and every
// batch it returns is bytes of the file.
func FuzzRecover(f *testing.F) {
	var good []byte
	good = append(good, magic...)
	for i := range 3 {
		good = appendRecord(good, key(int32(i)), batchOf(i))
	}
	f.Add(good)
	f.Add(good[:len(good)-5])
	f.Add(append(append([]byte(nil), good...), make([]byte, 100)...))
	f.Add([]byte(magic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, last := range []bool{true, false} {
			m := vfs.NewMem()
			if err := m.MkdirAll(dir); err != nil {
				t.Fatal(err)
			}
			write := func(seq uint64, b []byte) {
				fh, err := m.Create(path.Join(dir, fileName(seq)))
				if err != nil {
					t.Fatal(err)
				}
				fh.WriteAt(b, 0)
				fh.Close()
			}
			write(1, data)
			if !last {
				write(2, []byte(magic))
			}
			r, err := Recover(m, dir)
			if last && err != nil {
				t.Fatalf("the last file refused: %v", err)
			}
			if err != nil {
				if !errors.Is(err, ErrDamaged) {
					t.Fatalf("not ErrDamaged: %v", err)
				}
				continue
			}
			for _, es := range r.entries {
				for _, e := range es {
					if !bytes.Contains(data, e.Batch) {
						t.Fatal("a recovered batch is not in the file")
					}
				}
			}
		}
	})
}
