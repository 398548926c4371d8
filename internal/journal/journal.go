// Package journal is the log every partition's batches are also written
// to under fsync=always, so that one fsync makes a whole flush cycle's
// batches durable, however many partitions they went to.
//
// Without it, a produce request to n partitions waits for n fsyncs, one
// per partition's segment file: on the disks measured each costs 70-100
// us of CPU and a cache flush of its own, and they do not overlap well
// (docs/benchmarks.md). With it, a partition writes its batch to its
// segment as before, without syncing it, and to the journal; an acks=all
// produce waits for the journal's fsync, which every partition's appends
// since the last one share (group commit across partitions). The
// segments are synced later, in bulk, before the journal file that holds
// their batches is deleted (a checkpoint), and at shutdown.
//
// After a crash a partition's segment may lack batches the journal holds:
// the start reads the journal (Recover) and each partition appends again
// the batches past its recovered end (partition.Open), then syncs; once
// every partition is open, the journal files read are deleted.
//
// The format is Sluice's own: a file begins with an 8-byte magic; then
// records, each a 4-byte length (of what follows the CRC), a CRC-32C of
// what follows it, the topic id (16 bytes), the partition (4 bytes) and
// the batch, as the partition stored it. All big endian.
//
// What recovery may skip: a file is synced before the next is created, so
// only the last file can end in a torn record (its bytes after the last
// fsync, which no acknowledgement covered); reading stops there. A record
// that does not read in a file before the last is damage: Recover refuses
// it, naming the file, the position and the reason, and changes nothing.
package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"sluice/internal/vfs"
)

// Key names a partition: its topic's id and its index.
type Key struct {
	Topic     [16]byte
	Partition int32
}

const (
	magic        = "sluicej1"
	headerSize   = 4 + 4 + 16 + 4 // length, CRC, topic id, partition
	fileSuffix   = ".journal"
	defaultBytes = 64 << 20
	// maxKeptBuffer bounds the append buffer kept from one sync to the
	// next. One produce request can bring several MiB (a batch of up to
	// 1 MiB per partition); a smaller bound made every such request grow
	// a fresh buffer by doubling, copying its bytes twice more.
	maxKeptBuffer = 32 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrDamaged is a journal file that cannot be read where no crash can
// have torn it.
var ErrDamaged = errors.New("journal: damaged")

// Options are a journal's settings.
type Options struct {
	// FileBytes: start a new file once the current one holds this many
	// bytes. 0 => 64 MiB. The journal holds one to two files' worth: a
	// full file is deleted at the checkpoint that follows it.
	FileBytes int64
	// SyncAll makes every partition's segments durable. A checkpoint
	// calls it before deleting the files it covers.
	SyncAll func() error
	Logger  *slog.Logger
}

// Journal is the shared log. Append and Sync are safe for concurrent use.
type Journal struct {
	fsys vfs.FS
	dir  string
	opts Options

	mu       sync.Mutex
	cond     *sync.Cond // signalled when a sync ends
	buf      []byte     // appended since the last write
	spare    []byte     // the buffer the running sync wrote, for reuse
	appended int64      // bytes appended since Open: the position after the last record
	synced   int64      // position up to which records are durable
	syncing  bool       // a sync holds the file (file, seq, size, old)
	err      error      // sticky: after a failed write or fsync nothing is promised
	closed   bool

	// Owned by the running sync (syncing) or by Open and Close.
	file  vfs.File
	seq   uint64 // number of the current file
	size  int64  // bytes written to the current file
	alloc int64  // the current file's size: size plus preallocated zeros
	step  int64  // the last preallocation's length
	old   []string

	checkpointing sync.WaitGroup
	cpMu          sync.Mutex // one checkpoint at a time
}

func fileName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, fileSuffix) }

// listFiles returns the journal files of dir with their numbers, in order.
func listFiles(fsys vfs.FS, dir string) ([]string, []uint64, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("journal: %w", err)
	}
	type f struct {
		name string
		seq  uint64
	}
	var fs []f
	for _, n := range names {
		if !strings.HasSuffix(n, fileSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(n, fileSuffix), 10, 64)
		if err != nil {
			continue
		}
		fs = append(fs, f{n, seq})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].seq < fs[j].seq })
	var out []string
	var seqs []uint64
	for _, x := range fs {
		out = append(out, x.name)
		seqs = append(seqs, x.seq)
	}
	return out, seqs, nil
}

// New makes a journal in dir (created if missing). It writes nothing
// until Start: the files already there are the start's to replay and
// discard first (Recover), and a new file numbered after them would make
// the last of them look like a file synced whole.
func New(fsys vfs.FS, dir string, opts Options) (*Journal, error) {
	if opts.FileBytes <= 0 {
		opts.FileBytes = defaultBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SyncAll == nil {
		opts.SyncAll = func() error { return nil }
	}
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{fsys: fsys, dir: dir, opts: opts}
	j.cond = sync.NewCond(&j.mu)
	return j, nil
}

// Start creates the journal's first file, numbered after any file in the
// directory. Appends may be made before; syncs must wait for it.
func (j *Journal) Start() error {
	_, seqs, err := listFiles(j.fsys, j.dir)
	if err != nil {
		return err
	}
	var seq uint64
	if len(seqs) > 0 {
		seq = seqs[len(seqs)-1]
	}
	return j.startFile(seq + 1)
}

// startFile creates file seq with its magic and makes its name durable.
// Owned by the running sync, or by Open.
func (j *Journal) startFile(seq uint64) error {
	name := path.Join(j.dir, fileName(seq))
	f, err := j.fsys.Create(name)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if _, err := f.WriteAt([]byte(magic), 0); err != nil {
		f.Close()
		return fmt.Errorf("journal: write %s: %w", name, err)
	}
	// The magic before the name: a file that is there is a journal file.
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("journal: fsync %s: %w", name, err)
	}
	if err := j.fsys.SyncDir(j.dir); err != nil {
		f.Close()
		return fmt.Errorf("journal: fsync dir %s: %w", j.dir, err)
	}
	if j.file != nil {
		j.old = append(j.old, path.Join(j.dir, fileName(j.seq)))
		if err := j.file.Close(); err != nil {
			j.opts.Logger.Warn("journal: closing a full file", "file", fileName(j.seq), "err", err)
		}
	}
	j.file, j.seq, j.size = f, seq, int64(len(magic))
	j.alloc, j.step = j.size, 0
	return nil
}

// Small syncs (under 32 KiB, as at a light load, where each produce
// request pays a sync of its own) extend the file with written zeros
// ahead of the records, 64 KiB doubling to 1 MiB, so that the next syncs
// overwrite zeros and write no new file size: on the disks measured that
// halves an fsync's time and CPU. Large syncs do not: the zeros would
// cost a second write of every byte, more than they save there
// (commitlog/preallocate.go measures both). A full file is cut back to
// its records before the next one is created; a torn tail of zeros in the
// last file ends the reading like any torn record.
const (
	preallocBelow = 32 << 10
	preallocFirst = 64 << 10
	preallocMax   = 1 << 20
)

// preallocate extends the file after a sync of n bytes. Owned by the
// running sync.
func (j *Journal) preallocate(n int) error {
	if n >= preallocBelow || j.size < j.alloc {
		j.alloc = max(j.alloc, j.size)
		return nil
	}
	j.step = min(max(2*j.step, preallocFirst), preallocMax)
	target := min(j.size+j.step, max(j.size, j.opts.FileBytes))
	if err := vfs.WriteZeros(j.file, j.size, target); err != nil {
		return fmt.Errorf("journal: preallocate %s: %w", fileName(j.seq), err)
	}
	j.alloc = target
	return nil
}

// trim cuts the file back to its records, durably, if it was extended
// past them: at Close, for a file not yet full. Owned by Close.
func (j *Journal) trim() error {
	if j.alloc <= j.size {
		return nil
	}
	if err := j.file.Truncate(j.size); err != nil {
		return fmt.Errorf("journal: truncate %s: %w", fileName(j.seq), err)
	}
	j.alloc = j.size
	if err := j.file.Sync(); err != nil {
		return fmt.Errorf("journal: fsync %s: %w", fileName(j.seq), err)
	}
	return nil
}

// Append adds a record of batch for partition k and returns the position
// a Sync must reach for it to be durable. batch is copied.
func (j *Journal) Append(k Key, batch []byte) (int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return 0, j.err
	}
	if j.closed {
		return 0, errClosed
	}
	j.buf = appendRecord(j.buf, k, batch)
	j.appended += int64(headerSize + len(batch))
	return j.appended, nil
}

var errClosed = errors.New("journal: closed")

func appendRecord(dst []byte, k Key, batch []byte) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(headerSize-8+len(batch)))
	dst = append(dst, 0, 0, 0, 0) // CRC, below
	dst = append(dst, k.Topic[:]...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(k.Partition))
	dst = append(dst, batch...)
	binary.BigEndian.PutUint32(dst[start+4:], crc32.Checksum(dst[start+8:], castagnoli))
	return dst
}

// Sync returns once every record up to pos is durable, writing and
// syncing what is buffered itself unless a sync is running, in which case
// it waits for that one and looks again: appends made while a sync runs
// share the next one. A failure is sticky.
func (j *Journal) Sync(pos int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	pos = min(pos, j.appended) // nothing past what was appended to wait for
	for j.synced < pos {
		if j.err != nil {
			return j.err
		}
		if j.closed {
			return errClosed
		}
		if j.syncing {
			j.cond.Wait()
			continue
		}
		j.syncing = true
		data, end := j.buf, j.appended
		j.buf, j.spare = j.spare[:0], nil
		j.mu.Unlock()
		err := j.write(data)
		j.mu.Lock()
		if cap(data) <= maxKeptBuffer { // a rare huge buffer is not kept
			j.spare = data[:0]
		}
		j.syncing = false
		if err != nil && j.err == nil {
			j.err = err
			j.opts.Logger.Error("journal: write failure; acks=all produces fail from now on", "err", err)
		}
		if err == nil {
			j.synced = end
		}
		j.cond.Broadcast()
	}
	return nil
}

// write appends data to the current file, syncs it and starts the next
// file when this one is full. Owned by the running sync.
func (j *Journal) write(data []byte) error {
	if _, err := j.file.WriteAt(data, j.size); err != nil {
		return fmt.Errorf("journal: write %s: %w", fileName(j.seq), err)
	}
	j.size += int64(len(data))
	// Zeros written now are synced with these records, and the next
	// syncs find them in place.
	if err := j.preallocate(len(data)); err != nil {
		return err
	}
	if err := j.file.Sync(); err != nil {
		return fmt.Errorf("journal: fsync %s: %w", fileName(j.seq), err)
	}
	if j.size < j.opts.FileBytes {
		// Preallocation stops at FileBytes, so a file that rotates holds
		// no zeros past its records.
		return nil
	}
	if err := j.startFile(j.seq + 1); err != nil {
		return err
	}
	old := j.old
	j.old = nil
	j.checkpointing.Add(1)
	go j.checkpoint(old)
	return nil
}

// checkpoint makes every partition's segments durable, then deletes the
// files given: every record in them was appended to its partition before
// the sync began. A failure keeps the files for the next checkpoint (or
// the next start, which replays them harmlessly).
func (j *Journal) checkpoint(files []string) {
	defer j.checkpointing.Done()
	j.cpMu.Lock()
	defer j.cpMu.Unlock()
	if err := j.opts.SyncAll(); err != nil {
		j.opts.Logger.Warn("journal: checkpoint: syncing partitions failed; keeping the journal files", "err", err)
		j.mu.Lock()
		j.old = append(files, j.old...)
		j.mu.Unlock()
		return
	}
	if err := j.remove(files); err != nil {
		j.opts.Logger.Warn("journal: checkpoint: removing files", "err", err)
	}
}

func (j *Journal) remove(files []string) error { return removeFiles(j.fsys, j.dir, files) }

// removeFiles deletes files of dir and makes their removal durable.
func removeFiles(fsys vfs.FS, dir string, files []string) error {
	if len(files) == 0 {
		return nil
	}
	var errs []error
	for _, f := range files {
		if err := fsys.Remove(f); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, fsys.SyncDir(dir))
	return errors.Join(errs...)
}

// Close waits for a running sync and checkpoint and closes the file.
// With clean (every partition was closed, its segments synced), it
// deletes every journal file: there is nothing left to replay.
func (j *Journal) Close(clean bool) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	for j.syncing {
		j.cond.Wait()
	}
	j.closed = true
	j.syncing = true // no sync starts after this
	j.mu.Unlock()
	j.checkpointing.Wait()
	if j.file == nil {
		return nil // never started
	}
	err := j.trim()
	if cerr := j.file.Close(); err == nil {
		err = cerr
	}
	if clean && err == nil && j.err == nil {
		names, _, lerr := listFiles(j.fsys, j.dir)
		if lerr != nil {
			return lerr
		}
		var paths []string
		for _, n := range names {
			paths = append(paths, path.Join(j.dir, n))
		}
		err = j.remove(paths)
	}
	return err
}
