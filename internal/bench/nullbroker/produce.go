package nullbroker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/recordbatch"
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
// there is none). It reads the batch headers through recordbatch but
// skips the CRC and the record walk a broker does: the null broker is the
// client's ceiling, so it does as little as it can.
func countRecords(recs []byte) (count int64, valueSize int, ok bool) {
	valueSize = -1
	for len(recs) > 0 {
		n := recordbatch.Size(recs)
		if len(recs) < recordbatch.HeaderSize || n < recordbatch.HeaderSize || n > int64(len(recs)) {
			return 0, -1, false
		}
		b := recordbatch.Batch(recs[:n])
		count += int64(b.LastOffsetDelta()) + 1
		if valueSize < 0 && b.Codec() == recordbatch.CodecNone {
			b.EachRecord(func(_ int64, _, value []byte) bool {
				if value != nil { // a null value tells no size
					valueSize = len(value)
				}
				return false
			})
		}
		recs = recs[n:]
	}
	return count, valueSize, true
}
