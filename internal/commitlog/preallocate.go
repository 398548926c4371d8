package commitlog

import (
	"fmt"

	"sluice/internal/vfs"
)

// Preallocation. Under fsync=always an acknowledged produce waits for an
// fsync of its partition's active segment. When the appends since the
// last fsync grew the file, that fsync must also write the file's new
// size before it flushes the disk's cache: on the disks measured
// (docs/benchmarks.md) that doubles the fsync's time and CPU. So the
// active segment's file is extended with written zeros ahead of its
// appends, and an append overwrites zeros instead of growing the file:
// the fsyncs between two extensions write data only.
//
// Written zeros, not fallocate or a sparse extension: both leave blocks
// the file system must mark as written at the first write into them, a
// metadata change the next fsync then carries as well.
//
// The zeros cost a second write of every byte (0.45 ns per byte of CPU
// here, the page cache's work) to save the size's write at each fsync
// (about 45 us of CPU): worth it when an fsync covers little, as at a
// light load, where every request pays an fsync of its own, and not
// when fsyncs cover tens of kilobytes, as under a producer at full speed
// (there it took 0.37 s of CPU to save 0.11 s). So a segment is extended
// only while the log's last sync covered less than
// preallocateBelowSyncBytes; otherwise appends grow the file.
//
// An extension starts at 64 KiB and doubles with each extension of the
// segment up to Config.PreallocateBytes, so a quiet partition keeps
// little unused space and a busy one extends rarely; it never passes the
// segment's roll size. The zeros after the last batch are never data: a
// segment is cut back to its batches before it stops being the active
// one (roll, Close), and recovery drops a tail of zeros whatever the
// shutdown was, since no batch begins with a zero length.
const (
	firstPreallocStep         = 64 << 10
	preallocateBelowSyncBytes = 32 << 10
)

// preallocate extends s's file with zeros past end, the end of the batch
// just written, when the batch reached the extension's end. Requires
// appendMu.
func (l *Log) preallocate(s *segment, end int64, cfg *Config) error {
	if cfg.PreallocateBytes <= 0 || end < s.alloc || l.lastSyncBytes.Load() >= preallocateBelowSyncBytes {
		s.alloc = max(s.alloc, end)
		return nil
	}
	s.preallocStep = min(max(2*s.preallocStep, firstPreallocStep), cfg.PreallocateBytes)
	target := min(end+s.preallocStep, max(end, cfg.SegmentBytes))
	if err := vfs.WriteZeros(s.file, end, target); err != nil {
		return l.fail(fmt.Errorf("commitlog: preallocate %s/%s: %w", l.dir, s.name, err))
	}
	s.alloc = target
	return nil
}

// trimPreallocated cuts s's file back to its batches, if it was extended
// past them, and reports whether it did: the cut must then be synced.
// Requires appendMu.
func (l *Log) trimPreallocated(s *segment) (bool, error) {
	size := s.size.Load()
	if s.alloc <= size {
		return false, nil
	}
	if err := s.file.Truncate(size); err != nil {
		return false, l.fail(fmt.Errorf("commitlog: truncate preallocated space of %s/%s: %w", l.dir, s.name, err))
	}
	s.alloc = size
	return true, nil
}

// zeroTail reports whether the file's bytes from pos to end are all zero:
// preallocated space a crash left after the last batch.
func zeroTail(s *segment, pos, end int64) (bool, error) {
	buf := make([]byte, min(end-pos, 256<<10))
	for pos < end {
		n := min(int64(len(buf)), end-pos)
		if err := readFull(s.file, buf[:n], pos); err != nil {
			return false, err
		}
		if !isZero(buf[:n]) {
			return false, nil
		}
		pos += n
	}
	return true, nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
