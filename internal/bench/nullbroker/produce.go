package nullbroker

import (
	"encoding/binary"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// produce acknowledges every batch at once: it counts the records, notes
// the size of the first value (what synthesized fetches will carry) and
// moves the partition's high watermark. Nothing is checked or kept.
func (s *Server) produce(r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	for _, rt := range req.Topics {
		t := s.state.topic(rt.Topic)
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition, sp.LogAppendTime = rp.Partition, -1
			p := t.partition(rp.Partition)
			count, size, ok := countRecords(rp.Records)
			switch {
			case p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case !ok:
				sp.ErrorCode = kerr.CorruptMessage.Code
			default:
				if size >= 0 {
					p.valueSize.Store(int32(size))
				}
				sp.BaseOffset = p.hw.Add(count) - count
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	s.state.data.fire()
	if req.Acks == 0 {
		return nil
	}
	return resp
}

// countRecords sums the record counts of the batches in recs and returns
// the value size of the first record of an uncompressed batch (-1 when
// there is none).
func countRecords(recs []byte) (count int64, valueSize int, ok bool) {
	valueSize = -1
	for len(recs) > 0 {
		if len(recs) < batchHeaderSize {
			return 0, -1, false
		}
		n := 12 + int(int32(binary.BigEndian.Uint32(recs[8:])))
		if n < batchHeaderSize || n > len(recs) {
			return 0, -1, false
		}
		count += int64(int32(binary.BigEndian.Uint32(recs[23:]))) + 1
		if valueSize < 0 && binary.BigEndian.Uint16(recs[21:])&7 == 0 {
			valueSize = firstValueSize(recs[batchHeaderSize:n])
		}
		recs = recs[n:]
	}
	return count, valueSize, true
}

// firstValueSize reads the value length of the first record: length,
// attributes, timestamp delta, offset delta, key, value length.
func firstValueSize(b []byte) int {
	var fields [4]int64
	for i := range fields {
		v, n := binary.Varint(b)
		if n <= 0 {
			return -1
		}
		fields[i], b = v, b[n:]
		if i == 0 { // after the length comes one byte of attributes
			if len(b) == 0 {
				return -1
			}
			b = b[1:]
		}
	}
	// fields: length, timestamp delta, offset delta, key length.
	if k := fields[3]; k > 0 {
		if int64(len(b)) < k {
			return -1
		}
		b = b[k:]
	}
	v, n := binary.Varint(b)
	if n <= 0 || v < 0 {
		return -1
	}
	return int(v)
}
