package metadata

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"path"
	"sync"

	"sluice/internal/vfs"
)

// Store is the catalog on disk: an append-only file of framed records
// (4-byte length, 4-byte CRC-32C of the payload, JSON payload), each one
// fsynced before the change it describes is acknowledged. Admin changes are
// rare, so one fsync per record costs nothing that matters.
type Store struct {
	allocMu sync.Mutex // serializes producer id blocks: read the mark, then commit the next
	mu      sync.Mutex
	fs      vfs.FS
	file    vfs.File
	size    int64
	state   *State
	werr    error // sticky: after a failed write nothing more is accepted
}

const catalogFile = "catalog.log"

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// OpenStore opens (or creates) the catalog in dir and replays it. A torn
// last record — a crash in the middle of writing it — is cut off and
// logged: it was never synced, so the change it describes was never
// acknowledged to anyone.
func OpenStore(fsys vfs.FS, dir string, logger *slog.Logger) (*Store, error) {
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, err
	}
	name := path.Join(dir, catalogFile)
	f, err := openOrCreate(fsys, dir, name)
	if err != nil {
		return nil, err
	}
	s := &Store{fs: fsys, file: f, state: NewState()}
	if err := s.replay(name, logger); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func openOrCreate(fsys vfs.FS, dir, name string) (vfs.File, error) {
	f, err := fsys.Open(name)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return f, err
	}
	if f, err = fsys.Create(name); err != nil {
		return nil, err
	}
	if err := fsys.SyncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (s *Store) replay(name string, logger *slog.Logger) error {
	size, err := s.file.Size()
	if err != nil {
		return err
	}
	buf := make([]byte, size)
	if _, err := s.file.ReadAt(buf, 0); err != nil && int64(len(buf)) != 0 {
		return fmt.Errorf("metadata: read %s: %w", name, err)
	}
	pos := int64(0)
	for pos < size {
		rec, n, err := decodeRecord(buf[pos:])
		if err == nil {
			err = s.state.Apply(rec)
		}
		if err != nil {
			logger.Warn("metadata: truncated torn catalog tail", "file", name, "position", pos, "droppedBytes", size-pos, "reason", err)
			if err := s.file.Truncate(pos); err != nil {
				return err
			}
			if err := s.file.Sync(); err != nil {
				return err
			}
			break
		}
		pos += n
	}
	s.size = pos
	return nil
}

func decodeRecord(b []byte) (Record, int64, error) {
	var r Record
	if len(b) < 8 {
		return r, 0, errors.New("short record header")
	}
	n := int64(binary.BigEndian.Uint32(b))
	if n > int64(len(b))-8 {
		return r, 0, errors.New("record runs past the end of the file")
	}
	payload := b[8 : 8+n]
	if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(b[4:]) {
		return r, 0, errors.New("record CRC mismatch")
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		return r, 0, err
	}
	return r, 8 + n, nil
}

// Commit applies r to the state and makes it durable. The record is written
// and synced before it is applied, so the in-memory state never runs ahead
// of the disk.
func (s *Store) Commit(r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.werr != nil {
		return s.werr
	}
	r.Version = recordVersion
	if err := s.state.Clone().Apply(r); err != nil {
		return err
	}
	if err := s.write(r); err != nil {
		s.werr = err
		return err
	}
	return s.state.Apply(r)
}

func (s *Store) write(r Record) error {
	payload, err := json.Marshal(r)
	if err != nil {
		return err
	}
	frame := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint32(frame, uint32(len(payload)))
	binary.BigEndian.PutUint32(frame[4:], crc32.Checksum(payload, crcTable))
	frame = append(frame, payload...)
	if _, err := s.file.WriteAt(frame, s.size); err != nil {
		return fmt.Errorf("metadata: write catalog: %w", err)
	}
	if err := s.file.Sync(); err != nil {
		return fmt.Errorf("metadata: sync catalog: %w", err)
	}
	s.size += int64(len(frame))
	return nil
}

// Read calls fn with the current state under the store's lock. fn must not
// keep the state.
func (s *Store) Read(fn func(*State)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.state)
}

// AllocateProducerIDs hands out the next block of n producer ids, durably:
// the catalog records the new high mark before the block is returned, so
// no id is ever given twice, across restarts too.
func (s *Store) AllocateProducerIDs(n int64) (first int64, err error) {
	s.allocMu.Lock()
	defer s.allocMu.Unlock()
	var next int64
	s.Read(func(st *State) { next = st.NextProducerID })
	if err := s.Commit(Record{Type: RecProducerIDs, NextProducerID: next + n}); err != nil {
		return 0, err
	}
	return next, nil
}

// Close closes the catalog file.
func (s *Store) Close() error { return s.file.Close() }

// Clone returns a deep copy of the state, so a record can be tried on it.
func (st *State) Clone() *State {
	c := NewState()
	c.ClusterID, c.NextProducerID = st.ClusterID, st.NextProducerID
	for name, t := range st.topics {
		tc := *t
		tc.Configs = make(map[string]string, len(t.Configs))
		for k, v := range t.Configs {
			tc.Configs[k] = v
		}
		c.topics[name] = &tc
		c.byID[t.ID] = name
	}
	return c
}
