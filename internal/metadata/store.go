package metadata

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"path"
	"sync"
	"time"

	"sluice/internal/vfs"
)

// Store is the catalog on disk: a file of framed records (see frame.go),
// each one fsynced before the change it describes is acknowledged. Admin
// changes are rare, so one fsync per record costs nothing that matters.
type Store struct {
	allocMu sync.Mutex // serializes producer id blocks: read the mark, then commit the next
	mu      sync.Mutex
	fs      vfs.FS
	dir     string
	file    vfs.File
	size    int64
	state   *State
	werr    error // sticky: after a failed write nothing more is accepted

	// Recovered is set when Options.Recover replaced a damaged catalog.
	Recovered *Recovery
}

// Options say how OpenStore treats the catalog it finds.
type Options struct {
	// Recover, when the catalog is damaged, saves a copy of the damaged
	// file beside it and goes on with the records before the damage
	// instead of refusing to open. Nothing is deleted.
	Recover bool
	Logger  *slog.Logger
	Clock   func() time.Time // names the saved copy; default time.Now
}

// Recovery is what Options.Recover did with a damaged catalog.
type Recovery struct {
	Damage  *CorruptError
	SavedAs string // the copy of the damaged file
	Kept    int    // records before the damage, kept
}

const catalogFile = "catalog.log"

// OpenStore opens (or creates) the catalog in dir and replays it.
//
// Only a torn tail — the last frame cut short by a crash in the middle of
// writing it — is cut: that record was never synced, so the change it
// describes was never acknowledged. Any other frame that cannot be read or
// applied is damage: OpenStore returns a *CorruptError naming the file,
// the byte offset and the reason, and changes nothing on disk (unless
// opts.Recover).
func OpenStore(fsys vfs.FS, dir string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, err
	}
	s := &Store{fs: fsys, dir: dir, state: NewState()}
	if err := s.load(opts); err != nil {
		if s.file != nil {
			s.file.Close()
		}
		return nil, err
	}
	return s, nil
}

func (s *Store) name() string { return path.Join(s.dir, catalogFile) }

// load reads and replays the catalog, creating it if absent.
func (s *Store) load(opts Options) error {
	data, err := s.readFile()
	if errors.Is(err, fs.ErrNotExist) {
		return s.rewrite(nil)
	}
	if err != nil {
		return err
	}
	var applied []Record
	res, err := scan(s.name(), data, func(r Record) error {
		if err := s.state.Apply(r); err != nil {
			return err
		}
		applied = append(applied, r)
		return nil
	})
	var damage *CorruptError
	switch {
	case errors.As(err, &damage) && opts.Recover:
		return s.recoverDamaged(data, damage, applied, opts)
	case err != nil:
		return err
	case res.legacy:
		if res.torn != nil {
			s.logTorn(opts.Logger, res, int64(len(data)))
		}
		opts.Logger.Info("metadata: converting the catalog to format 2", "file", s.name(), "records", len(applied))
		return s.rewrite(applied)
	}
	if s.file, err = s.fs.Open(s.name()); err != nil {
		return err
	}
	s.size = res.end
	if res.torn == nil {
		return nil
	}
	s.logTorn(opts.Logger, res, int64(len(data)))
	if err := s.file.Truncate(res.end); err != nil {
		return fmt.Errorf("metadata: cut torn tail of %s: %w", s.name(), err)
	}
	return s.file.Sync()
}

func (s *Store) logTorn(logger *slog.Logger, res scanResult, size int64) {
	logger.Warn("metadata: cutting torn catalog tail: a record whose write a crash interrupted, never acknowledged",
		"file", s.name(), "offset", res.end, "droppedBytes", size-res.end, "reason", res.torn.Error())
}

func (s *Store) readFile() ([]byte, error) {
	f, err := s.fs.Open(s.name())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	if n, err := f.ReadAt(buf, 0); n != len(buf) {
		return nil, fmt.Errorf("metadata: read %s: %w", s.name(), err)
	}
	return buf, nil
}

// recoverDamaged saves the damaged file under a new name, then writes a
// catalog of the records that applied before the damage.
func (s *Store) recoverDamaged(data []byte, damage *CorruptError, applied []Record, opts Options) error {
	saved := s.name() + ".damaged-" + opts.Clock().UTC().Format("20060102T150405Z")
	if err := s.writeSynced(saved, data); err != nil {
		return fmt.Errorf("metadata: save damaged catalog as %s: %w", saved, err)
	}
	s.Recovered = &Recovery{Damage: damage, SavedAs: saved, Kept: len(applied)}
	opts.Logger.Error("metadata: catalog damaged; recovering as asked: the records before the damage are kept, the damaged file is saved",
		"file", s.name(), "offset", damage.Offset, "reason", damage.Reason, "keptRecords", len(applied), "savedAs", saved)
	return s.rewrite(applied)
}

// rewrite replaces the catalog file by one holding recs, crash-safely:
// written under a temporary name, synced, renamed over the old file.
func (s *Store) rewrite(recs []Record) error {
	buf := []byte(fileMagic)
	for _, r := range recs {
		var err error
		if buf, err = appendFrame(buf, r); err != nil {
			return err
		}
	}
	if err := vfs.ReplaceFile(s.fs, s.name(), buf); err != nil {
		return err
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		return err
	}
	f, err := s.fs.Open(s.name())
	if err != nil {
		return err
	}
	s.file, s.size = f, int64(len(buf))
	return nil
}

// writeSynced creates name with data and makes both durable.
func (s *Store) writeSynced(name string, data []byte) error {
	if err := vfs.WriteFile(s.fs, name, data); err != nil {
		return err
	}
	return s.fs.SyncDir(s.dir)
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
	r.Version = versionOf(r.Type)
	if err := s.state.Clone().Apply(r); err != nil {
		return err
	}
	frame, err := appendFrame(nil, r)
	if err != nil {
		return err
	}
	if err := s.write(frame); err != nil {
		s.werr = err
		return err
	}
	return s.state.Apply(r)
}

func (s *Store) write(frame []byte) error {
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

// RaiseProducerIDs moves the producer-id high mark up to atLeast, durably,
// if it is below: for ids the data holds that the catalog does not know
// it handed out (a catalog restored from an older copy, or one recovered
// past lost records). It reports whether it moved.
func (s *Store) RaiseProducerIDs(atLeast int64) (bool, error) {
	s.allocMu.Lock()
	defer s.allocMu.Unlock()
	var next int64
	s.Read(func(st *State) { next = st.NextProducerID })
	if atLeast <= next {
		return false, nil
	}
	return true, s.Commit(Record{Type: RecProducerIDs, NextProducerID: atLeast})
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
	maps.Copy(c.deleted, st.deleted)
	for user, creds := range st.scram {
		c.scram[user] = maps.Clone(creds)
	}
	maps.Copy(c.acls, st.acls)
	maps.Copy(c.quotas, st.quotas) // the value maps are replaced, never changed
	return c
}
