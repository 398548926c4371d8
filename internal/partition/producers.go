package partition

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	"sluice/internal/commitlog"
	"sluice/internal/producerstate"
	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

// ProducerError carries the Kafka error an idempotent producer's batch is
// answered with (OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH,
// UNKNOWN_PRODUCER_ID), and why in words when known; nothing was
// appended.
type ProducerError struct {
	Code   int16
	Reason string
}

func (e *ProducerError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("partition: producer state refused the batch (code %d)", e.Code)
	}
	return fmt.Sprintf("partition: producer state refused the batch (code %d): %s", e.Code, e.Reason)
}

// producerSnapshotFile holds the producer state as of an offset, written at
// clean shutdown; start-up restores it and replays the log after it.
const producerSnapshotFile = "producer.snapshot"

// producerBatch describes a batch for producer state. The record count is
// taken from the last offset delta, as Kafka does: a produced batch has
// both equal, and a batch the log cleaner shrank (or kept as an empty
// header) keeps its delta, so its sequence range stays right.
func producerBatch(b recordbatch.Batch) producerstate.Batch {
	return producerstate.Batch{
		ProducerID: b.ProducerID(), Epoch: b.ProducerEpoch(),
		BaseSequence: b.BaseSequence(), RecordCount: b.LastOffsetDelta() + 1,
		FirstOffset: b.BaseOffset(), LastOffset: b.LastOffset(),
		MaxTimestamp: b.MaxTimestamp(), Transactional: b.IsTransactional(),
	}
}

// checkProducer runs the idempotence rules for a batch with a producer id.
// A retry of one of the producer's last five batches is answered with the
// original offsets and not appended again (KIP-98). Requires p.mu.
func (p *Partition) checkProducerLocked(b recordbatch.Batch) (AppendResult, bool, error) {
	v := p.producers.Check(producerBatch(b))
	if v.Code != 0 {
		return AppendResult{}, false, &ProducerError{Code: v.Code, Reason: v.Reason}
	}
	if !v.Duplicate {
		return AppendResult{}, false, nil
	}
	res := AppendResult{BaseOffset: v.FirstOffset, NextOffset: v.LastOffset + 1, LogAppendTime: -1, Duplicate: true}
	if p.cfg.LogAppendTime {
		res.LogAppendTime = v.BatchTimestamp
	}
	return res, true, nil
}

// loadProducers rebuilds producer state: the snapshot written at the last
// clean shutdown, if it is whole and not past the log's end, then a replay
// of every batch after it. Without a usable snapshot the whole log is
// replayed, so a crash costs time, never correctness.
func (p *Partition) loadProducers(fsys vfs.FS) error {
	cfg := producerstate.Config{ExpirationMs: p.cfg.ProducerExpirationMs}
	p.producers = producerstate.New(cfg)
	from := p.log.StartOffset()
	if fsys != nil {
		if st, at, ok := p.readProducerSnapshot(fsys, cfg); ok && at <= p.log.NextOffset() && at >= from {
			p.producers, from = st, at
		}
	}
	return p.replayProducers(from)
}

func (p *Partition) readProducerSnapshot(fsys vfs.FS, cfg producerstate.Config) (*producerstate.State, int64, bool) {
	name := path.Join(p.log.Dir(), producerSnapshotFile)
	f, err := fsys.Open(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			p.logger.Warn("partition: cannot open producer snapshot; replaying the log", "file", name, "err", err)
		}
		return nil, 0, false
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, 0, false
	}
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, 0); err != nil && size > 0 {
		return nil, 0, false
	}
	st, at, err := producerstate.Restore(buf, cfg)
	if err != nil {
		p.logger.Warn("partition: producer snapshot unusable; replaying the log", "file", name, "err", err)
		return nil, 0, false
	}
	return st, at, true
}

// replayProducers applies every idempotent batch from offset on.
func (p *Partition) replayProducers(from int64) error {
	end := p.log.NextOffset()
	var buf []byte
	for from < end {
		data, err := p.log.Read(from, end, 1<<20, buf[:0])
		if err != nil {
			return fmt.Errorf("partition: replaying producer state: %w", err)
		}
		if len(data) == 0 {
			return nil
		}
		for len(data) > 0 {
			b := recordbatch.Batch(data[:recordbatch.Size(data)])
			if b.ProducerID() >= 0 && b.NextOffset() > from {
				p.replayBatch(b)
			}
			from = b.NextOffset()
			data = data[len(b):]
		}
		buf = data[:0]
	}
	return nil
}

// replayBatch applies one logged batch to producer state: a marker ends
// its producer's transaction, any other batch is recorded.
func (p *Partition) replayBatch(b recordbatch.Batch) {
	if b.IsTransactional() && b.BaseSequence() < 0 && !b.IsControl() {
		p.producers.ApplyTxnWrite(b.ProducerID(), b.ProducerEpoch(), b.BaseOffset(), b.MaxTimestamp())
		return
	}
	if !b.IsControl() {
		p.producers.Apply(producerBatch(b))
		return
	}
	m, err := b.Marker()
	if err != nil {
		p.logger.Warn("partition: control batch without a marker; ignored", "topic", p.Topic, "partition", p.Index, "offset", b.BaseOffset(), "err", err)
		return
	}
	c, ok := p.producers.ApplyMarker(producerstate.Marker{ProducerID: m.ProducerID, Epoch: m.Epoch, Offset: b.BaseOffset(),
		Commit: m.Commit, CoordinatorEpoch: m.CoordinatorEpoch, Timestamp: m.Timestamp})
	if ok && c.Aborted {
		// Rebuilds what a crash took of the aborted-transaction index. The
		// last stable offset of the time is not known here; the first
		// offset is a lower bound, which only makes searches look further.
		e := commitlog.AbortedEntry{ProducerID: c.ProducerID, FirstOffset: c.FirstOffset, LastOffset: c.LastOffset, LastStableOffset: c.FirstOffset}
		if err := p.log.AddAborted(e); err != nil {
			p.logger.Warn("partition: recording an aborted transaction", "topic", p.Topic, "partition", p.Index, "err", err)
		}
	}
}

// writeProducerSnapshotLocked writes the state, which must be the state
// as of offset at, atomically: a temporary file, synced, renamed over the
// old one, directory synced.
func (p *Partition) writeProducerSnapshotLocked(fsys vfs.FS, at int64) error {
	dir := p.log.Dir()
	tmp := path.Join(dir, producerSnapshotFile+".tmp")
	f, err := fsys.Create(tmp)
	if err != nil {
		return err
	}
	data := p.producers.Snapshot(at)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := fsys.Rename(tmp, path.Join(dir, producerSnapshotFile)); err != nil {
		return err
	}
	return fsys.SyncDir(dir)
}

// Producers describes the partition's active idempotent producers
// (DescribeProducers, KIP-664).
func (p *Partition) Producers() []producerstate.Producer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.producers.Producers()
}

// ExpireProducers forgets producers idle past producer.id.expiration.ms,
// so memory stays bounded; a forgotten producer that comes back mid
// sequence gets UNKNOWN_PRODUCER_ID and bumps its epoch (KIP-360).
func (p *Partition) ExpireProducers(nowMs int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.producers.Expire(nowMs))
}
