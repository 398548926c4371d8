package commitlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"
)

// An offset checkpoint is a small file beside the segments that holds one
// offset: 8 bytes big endian, then their CRC-32. It is written like an
// index file (temporary name, fsync, rename) and the directory is synced
// after the rename, so the file under its final name is always whole and,
// once writeOffsetCheckpoint returns, durable. The cleaner checkpoint and
// the log start offset are kept this way.
const offsetCheckpointSize = 12

// writeOffsetCheckpoint replaces the checkpoint file name with offset.
// A failed directory fsync is sticky, like any failed fsync of the log.
func (l *Log) writeOffsetCheckpoint(name string, offset int64) error {
	data := binary.BigEndian.AppendUint64(nil, uint64(offset))
	data = binary.BigEndian.AppendUint32(data, crc32.ChecksumIEEE(data))
	if err := l.writeIndexFile(filepath.Join(l.dir, name), data); err != nil {
		return fmt.Errorf("commitlog: writing %s: %w", name, err)
	}
	if err := l.fsys.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("commitlog: fsync dir %s: %w", l.dir, err))
	}
	return nil
}

// errDamagedCheckpoint: a checkpoint file is there but does not decode.
var errDamagedCheckpoint = errors.New("not a whole offset checkpoint (8-byte offset and its CRC-32)")

// readOffsetCheckpoint reads the checkpoint file name. found is false when
// there is none; err is set when one is there but cannot be read or does
// not decode.
func (l *Log) readOffsetCheckpoint(name string) (offset int64, found bool, err error) {
	f, err := l.fsys.Open(filepath.Join(l.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, true, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return 0, true, err
	}
	if size != offsetCheckpointSize {
		return 0, true, fmt.Errorf("%w: %d bytes", errDamagedCheckpoint, size)
	}
	var data [offsetCheckpointSize]byte
	if err := readFull(f, data[:], 0); err != nil {
		return 0, true, err
	}
	if crc32.ChecksumIEEE(data[:8]) != binary.BigEndian.Uint32(data[8:]) {
		return 0, true, fmt.Errorf("%w: CRC mismatch", errDamagedCheckpoint)
	}
	return int64(binary.BigEndian.Uint64(data[:8])), true, nil
}
