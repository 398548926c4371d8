package group

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/recordbatch"
)

// The offsets log uses Kafka's own record formats for __consumer_offsets
// (key version 1 = offset commit, value version 3), so tools that read that
// topic understand Sluice's. A nil value is a tombstone: the offset was
// deleted or expired.

// offsetRecord is one decoded record of the offsets log.
type offsetRecord struct {
	group string
	tp    TopicPartition
	value *Committed // nil: tombstone
}

const (
	offsetKeyVersion   = 1
	offsetValueVersion = 3
)

// encodeOffset returns the record for one commit (c nil: a tombstone).
func encodeOffset(group string, tp TopicPartition, c *Committed) recordbatch.Record {
	k := kmsg.NewOffsetCommitKey()
	k.Version, k.Group, k.Topic, k.Partition = offsetKeyVersion, group, tp.Topic, tp.Partition
	r := recordbatch.Record{Key: k.AppendTo(nil)}
	if c != nil {
		v := kmsg.NewOffsetCommitValue()
		v.Version = offsetValueVersion
		v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp = c.Offset, c.LeaderEpoch, c.Metadata, c.CommitTime
		r.Value = v.AppendTo(nil)
	}
	return r
}

var errNotOffsetRecord = errors.New("group: not an offset commit record")

// decodeOffset decodes one record of the offsets log. Records of other
// kinds (group metadata, written by later versions) return
// errNotOffsetRecord and are skipped by replay.
func decodeOffset(key, value []byte) (offsetRecord, error) {
	var r offsetRecord
	if len(key) < 2 {
		return r, errNotOffsetRecord
	}
	k := kmsg.NewOffsetCommitKey()
	if err := k.ReadFrom(key); err != nil {
		return r, err
	}
	if k.Version > 1 {
		return r, errNotOffsetRecord // 2 is group metadata
	}
	r.group, r.tp = k.Group, TopicPartition{k.Topic, k.Partition}
	if value == nil {
		return r, nil
	}
	v := kmsg.NewOffsetCommitValue()
	if err := v.ReadFrom(value); err != nil {
		return r, err
	}
	r.value = &Committed{Offset: v.Offset, LeaderEpoch: v.LeaderEpoch, Metadata: v.Metadata, CommitTime: v.CommitTimestamp}
	if v.Version < 3 {
		r.value.LeaderEpoch = -1
	}
	return r, nil
}
