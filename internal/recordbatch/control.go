package recordbatch

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A control batch (attributes: transactional and control) holds one
// record, a transaction marker: the key is a ControlRecordKey (type 0
// abort, 1 commit), the value an EndTxnMarker holding the coordinator
// epoch, both in kmsg's codecs of Kafka's formats.

// ControlMarker is a transaction marker as stored in a control batch.
type ControlMarker struct {
	ProducerID       int64
	Epoch            int16
	Commit           bool
	CoordinatorEpoch int32
	Timestamp        int64
}

// ErrControl is returned for a control batch whose record is not a marker.
var ErrControl = errors.New("recordbatch: control batch holds no transaction marker")

// BuildControl appends to dst the control batch of m, base offset 0.
func BuildControl(dst []byte, m ControlMarker) []byte {
	key := kmsg.NewControlRecordKey()
	if m.Commit {
		key.Type = kmsg.ControlRecordKeyTypeCommit
	}
	value := kmsg.NewEndTxnMarker()
	value.CoordinatorEpoch = m.CoordinatorEpoch
	start := len(dst)
	dst = Build(dst, []Record{{Key: key.AppendTo(nil), Value: value.AppendTo(nil)}}, m.Timestamp, AttrTransactional|AttrControl)
	b := Batch(dst[start:])
	binary.BigEndian.PutUint64(b[offProducerID:], uint64(m.ProducerID))
	binary.BigEndian.PutUint16(b[offProducerEpoch:], uint16(m.Epoch))
	binary.BigEndian.PutUint32(b[offCRC:], b.ComputeCRC())
	return dst
}

// Marker decodes the transaction marker of a control batch.
func (b Batch) Marker() (ControlMarker, error) {
	m := ControlMarker{ProducerID: b.ProducerID(), Epoch: b.ProducerEpoch(), Timestamp: b.MaxTimestamp()}
	if !b.IsControl() {
		return m, ErrControl
	}
	found := false
	err := b.EachRecord(func(_ int64, k, v []byte) bool {
		key, value := kmsg.NewControlRecordKey(), kmsg.NewEndTxnMarker()
		if key.ReadFrom(k) != nil || key.Version != 0 || value.ReadFrom(v) != nil {
			return false
		}
		switch key.Type {
		case kmsg.ControlRecordKeyTypeAbort:
		case kmsg.ControlRecordKeyTypeCommit:
			m.Commit = true
		default:
			return false
		}
		m.CoordinatorEpoch, found = value.CoordinatorEpoch, true
		return false
	})
	if err != nil {
		return m, fmt.Errorf("%w: %w", ErrControl, err)
	}
	if !found {
		return m, ErrControl
	}
	return m, nil
}

// BuildTxn appends to dst an uncompressed transactional batch of records
// written by the broker on behalf of producer pid at epoch (the offsets of
// a TxnOffsetCommit): no sequence, as Kafka writes it.
func BuildTxn(dst []byte, records []Record, ms int64, pid int64, epoch int16) []byte {
	start := len(dst)
	dst = Build(dst, records, ms, AttrTransactional)
	b := Batch(dst[start:])
	binary.BigEndian.PutUint64(b[offProducerID:], uint64(pid))
	binary.BigEndian.PutUint16(b[offProducerEpoch:], uint16(epoch))
	binary.BigEndian.PutUint32(b[offCRC:], b.ComputeCRC())
	return dst
}
