package journal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path"

	"sluice/internal/vfs"
)

// Entry is one batch the journal holds for a partition, with where it was
// read, for messages.
type Entry struct {
	File  string
	Pos   int64
	Batch []byte
}

// Recovered is what the journal files of a directory held at the start:
// each partition's batches in the order they were appended.
type Recovered struct {
	fsys    vfs.FS
	files   []string
	entries map[Key][]Entry
	bytes   int64
}

// For returns partition k's batches, oldest first.
func (r *Recovered) For(k Key) []Entry { return r.entries[k] }

// Files returns how many files were read and how many bytes of records.
func (r *Recovered) Files() (int, int64) { return len(r.files), r.bytes }

// Discard deletes the files read, once every partition has appended again
// and synced what it lacked of them.
func (r *Recovered) Discard(dir string) error {
	var paths []string
	for _, f := range r.files {
		paths = append(paths, path.Join(dir, f))
	}
	return removeFiles(r.fsys, dir, paths)
}

// Recover reads the journal files in dir. A torn record at the end of the
// last file ends the reading; a record that does not read anywhere else
// is refused (ErrDamaged) with the file, the position and the reason.
// Nothing is changed on disk. A missing dir holds nothing.
func Recover(fsys vfs.FS, dir string) (*Recovered, error) {
	r := &Recovered{fsys: fsys, entries: map[Key][]Entry{}}
	if _, isDir, err := fsys.Stat(dir); err != nil || !isDir {
		return r, nil
	}
	names, _, err := listFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	for i, name := range names {
		if err := r.read(dir, name, i == len(names)-1); err != nil {
			return nil, err
		}
		r.files = append(r.files, name)
	}
	return r, nil
}

// read reads one file's records into r.
func (r *Recovered) read(dir, name string, last bool) error {
	f, err := r.fsys.Open(path.Join(dir, name))
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	data := make([]byte, size)
	if size > 0 {
		if _, err := f.ReadAt(data, 0); err != nil {
			return fmt.Errorf("journal: reading %s: %w", name, err)
		}
	}
	damaged := func(pos int64, reason string) error {
		if last {
			return nil // a torn tail: written after the last fsync
		}
		return fmt.Errorf("%w: %s at byte %d: %s; a file before the last was synced whole, so this is not a torn write. Nothing was changed", ErrDamaged, path.Join(dir, name), pos, reason)
	}
	if int64(len(data)) < int64(len(magic)) || string(data[:len(magic)]) != magic {
		return damaged(0, "no journal file magic")
	}
	pos := int64(len(magic))
	for pos < size {
		rest := data[pos:]
		if len(rest) < headerSize {
			return damaged(pos, fmt.Sprintf("%d bytes, less than a record header", len(rest)))
		}
		n := int64(binary.BigEndian.Uint32(rest))
		if n < headerSize-8 || 8+n > int64(len(rest)) {
			return damaged(pos, fmt.Sprintf("record length %d does not fit the %d bytes left", n, len(rest)))
		}
		body := rest[8 : 8+n]
		if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(rest[4:]) {
			return damaged(pos, "record CRC mismatch")
		}
		var k Key
		copy(k.Topic[:], body[:16])
		k.Partition = int32(binary.BigEndian.Uint32(body[16:]))
		r.entries[k] = append(r.entries[k], Entry{File: name, Pos: pos, Batch: body[20:]})
		r.bytes += 8 + n
		pos += 8 + n
	}
	return nil
}
