package nullbroker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// want is one partition a fetch reads.
type want struct {
	name      string
	id        [16]byte
	partition int32
	offset    int64
	maxBytes  int32
}

// fetch reads the request's (or its session's) partitions and long-polls
// until min_bytes are there or max_wait_ms has passed.
func (s *Server) fetch(r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.FetchRequest)
	wants, sess, code := s.sessions.open(req)
	if code != 0 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = code
		return resp
	}
	timer := time.NewTimer(time.Duration(req.MaxWaitMillis) * time.Millisecond)
	defer timer.Stop()
	for {
		wake := s.state.data.wait() // before reading: no produce is missed
		resp, size := s.read(req, wants, sess != nil && req.SessionEpoch > 0)
		if sess != nil {
			resp.SessionID = sess.id
		}
		if size >= int(req.MinBytes) || req.MaxWaitMillis <= 0 {
			return resp
		}
		select {
		case <-wake:
		case <-timer.C:
			return resp
		case <-s.done:
			return resp
		}
	}
}

// read answers every wanted partition; an incremental fetch is answered
// only with the partitions that have records or an error.
func (s *Server) read(req *kmsg.FetchRequest, wants []want, incremental bool) (*kmsg.FetchResponse, int) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	remaining := int(req.MaxBytes)
	if remaining <= 0 {
		remaining = 1 << 30
	}
	size := 0
	now := time.Now().UnixMilli()
	var t *topic
	for _, w := range wants {
		if t == nil || t.name != w.name || t.id != w.id {
			t = s.lookup(req, w)
		}
		sp := s.readPartition(t, w, remaining, now)
		size += len(sp.RecordBatches)
		remaining -= len(sp.RecordBatches)
		if incremental && len(sp.RecordBatches) == 0 && sp.ErrorCode == 0 {
			continue
		}
		addPartition(resp, w, sp)
	}
	return resp, size
}

func (s *Server) lookup(req *kmsg.FetchRequest, w want) *topic {
	if req.Version >= 13 {
		return s.state.topicByID(w.id)
	}
	return s.state.topic(w.name)
}

func (s *Server) readPartition(t *topic, w want, remaining int, now int64) kmsg.FetchResponseTopicPartition {
	sp := kmsg.NewFetchResponseTopicPartition()
	sp.Partition = w.partition
	sp.RecordBatches = []byte{}
	p := t.partition(w.partition)
	if p == nil {
		sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return sp
	}
	hw := p.hw.Load()
	sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = hw, hw, 0
	switch {
	case w.offset > hw || w.offset < 0:
		sp.ErrorCode = kerr.OffsetOutOfRange.Code
		return sp
	case w.offset == hw:
		return sp
	}
	v := int(p.valueSize.Load())
	fit := min(int(w.maxBytes), remaining) / recordSize(v)
	n := int(min(hw-w.offset, int64(max(fit, 1))))
	sp.RecordBatches = appendBatch(make([]byte, 0, batchHeaderSize+n*recordSize(v)), w.offset, n, v, now)
	return sp
}

// addPartition adds sp under its topic, the last one of the response if
// it is w's.
func addPartition(resp *kmsg.FetchResponse, w want, sp kmsg.FetchResponseTopicPartition) {
	n := len(resp.Topics)
	if n == 0 || resp.Topics[n-1].Topic != w.name || resp.Topics[n-1].TopicID != w.id {
		st := kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = w.name, w.id
		resp.Topics = append(resp.Topics, st)
		n++
	}
	resp.Topics[n-1].Partitions = append(resp.Topics[n-1].Partitions, sp)
}
