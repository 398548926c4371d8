package commitlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"

	"sluice/internal/vfs"
)

// The leader-epoch checkpoint, leader-epoch.checkpoint beside the
// segments, holds the epoch cache (epochcache.go). Big-endian:
//
//	version  uint16  0
//	highest  int32   the largest epoch ever begun, -1 for none
//	count    uint32
//	entries  count x (epoch int32, start offset int64), ascending in both
//	crc      uint32  CRC-32C of everything before it
//
// Kafka keeps the same entries as text in leader-epoch-checkpoint; Sluice
// adds highest (Kafka's controller keeps the current epoch elsewhere) and
// a checksum, and uses another name so that neither is mistaken for the
// other. The file is replaced whole (temporary name, fsync, rename, fsync
// the directory), so it is always either the old or the new one.
const (
	epochCheckpointFile = "leader-epoch.checkpoint"
	epochFileHeader     = 2 + 4 + 4
	epochEntrySize      = 4 + 8
	epochFileVersion    = 0
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeEpochCheckpoint returns the file contents for the cache's state.
func encodeEpochCheckpoint(highest int32, entries []EpochEntry) []byte {
	buf := make([]byte, 0, epochFileHeader+len(entries)*epochEntrySize+4)
	buf = binary.BigEndian.AppendUint16(buf, epochFileVersion)
	buf = binary.BigEndian.AppendUint32(buf, uint32(highest))
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(entries)))
	for _, e := range entries {
		buf = binary.BigEndian.AppendUint32(buf, uint32(e.Epoch))
		buf = binary.BigEndian.AppendUint64(buf, uint64(e.StartOffset))
	}
	return binary.BigEndian.AppendUint32(buf, crc32.Checksum(buf, castagnoli))
}

// decodeEpochCheckpoint reads a checkpoint, refusing anything that is not
// exactly one well-formed file of this version.
func decodeEpochCheckpoint(data []byte) (int32, []EpochEntry, error) {
	if len(data) < epochFileHeader+4 {
		return 0, nil, fmt.Errorf("%d bytes, shorter than a header", len(data))
	}
	body, sum := data[:len(data)-4], binary.BigEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return 0, nil, errors.New("checksum mismatch")
	}
	if v := binary.BigEndian.Uint16(body); v != epochFileVersion {
		return 0, nil, fmt.Errorf("version %d", v)
	}
	highest := int32(binary.BigEndian.Uint32(body[2:]))
	count := binary.BigEndian.Uint32(body[6:])
	rest := body[epochFileHeader:]
	if uint64(count)*epochEntrySize != uint64(len(rest)) {
		return 0, nil, fmt.Errorf("%d entries in %d bytes", count, len(rest))
	}
	entries := make([]EpochEntry, 0, count)
	for ; len(rest) > 0; rest = rest[epochEntrySize:] {
		e := EpochEntry{Epoch: int32(binary.BigEndian.Uint32(rest)), StartOffset: int64(binary.BigEndian.Uint64(rest[4:]))}
		if err := checkNextEntry(entries, e); err != nil {
			return 0, nil, err
		}
		entries = append(entries, e)
	}
	if n := len(entries); highest < NoEpoch || (n > 0 && highest < entries[n-1].Epoch) {
		return 0, nil, fmt.Errorf("highest epoch %d below its entries", highest)
	}
	return highest, entries, nil
}

// checkNextEntry refuses an entry that does not follow the ones before it.
func checkNextEntry(before []EpochEntry, e EpochEntry) error {
	if e.Epoch < 0 || e.StartOffset < 0 {
		return fmt.Errorf("entry epoch %d at offset %d", e.Epoch, e.StartOffset)
	}
	if n := len(before); n > 0 && (before[n-1].Epoch >= e.Epoch || before[n-1].StartOffset >= e.StartOffset) {
		return fmt.Errorf("entry epoch %d at offset %d does not follow epoch %d at offset %d",
			e.Epoch, e.StartOffset, before[n-1].Epoch, before[n-1].StartOffset)
	}
	return nil
}

func (l *Log) epochCheckpointPath() string { return filepath.Join(l.dir, epochCheckpointFile) }

// readEpochCheckpoint reads and decodes the checkpoint; the error wraps
// fs.ErrNotExist when there is none.
func (l *Log) readEpochCheckpoint() (int32, []EpochEntry, error) {
	f, err := l.fsys.Open(l.epochCheckpointPath())
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return 0, nil, err
	}
	data := make([]byte, size)
	if err := readFull(f, data, 0); err != nil {
		return 0, nil, err
	}
	return decodeEpochCheckpoint(data)
}

// writeEpochCheckpoint makes the cache's state durable. A failure is
// sticky: an epoch whose entry may not be on disk must not be stamped.
func (l *Log) writeEpochCheckpoint() error {
	data := encodeEpochCheckpoint(l.epochs.snapshot())
	if err := vfs.ReplaceFile(l.fsys, l.epochCheckpointPath(), data); err != nil {
		return l.fail(fmt.Errorf("commitlog: writing %s: %w", l.epochCheckpointPath(), err))
	}
	if err := l.fsys.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("commitlog: fsync dir %s: %w", l.dir, err))
	}
	return nil
}
