// Package vfs is the only way Sluice's storage reaches the disk. Going
// through an interface lets tests swap the real file system for MemFS, which
// can simulate power loss, or for an ErrorFS, which injects I/O failures.
package vfs

import "io"

// FS is the subset of file system operations the storage layer needs.
type FS interface {
	// Create creates or truncates the named file, opened read-write.
	Create(name string) (File, error)
	// Open opens an existing file read-write: segments are both appended and read.
	Open(name string) (File, error)
	Remove(name string) error
	Rename(oldname, newname string) error
	MkdirAll(dir string) error
	// ReadDir returns the names of the entries of dir, sorted.
	ReadDir(dir string) ([]string, error)
	// Stat reports the size of a file and whether name is a directory.
	// errors.Is(err, fs.ErrNotExist) holds when name is absent.
	Stat(name string) (size int64, isDir bool, err error)
	// SyncDir makes the creates, renames and removes of entries in dir durable.
	SyncDir(dir string) error
}

// File is an open file. Write appends at the end of the file whatever the
// position of earlier ReadAt/WriteAt calls.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Writer
	io.Closer
	// Sync makes the file's contents durable (fsync).
	Sync() error
	Truncate(size int64) error
	Size() (int64, error)
}
