package nullbroker

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// sessions are incremental fetch sessions (KIP-227), kept because clients
// use them against every broker: a full fetch at epoch 0 opens one, and
// incremental fetches name only the partitions whose position changed.
// Epochs are not checked; a bench client never sends them out of order.
type sessions struct {
	mu   sync.Mutex
	next int32
	m    map[int32]*session
}

type session struct {
	id    int32
	wants []want
	index map[wantKey]int
}

type wantKey struct {
	name      string
	id        [16]byte
	partition int32
}

// open returns the partitions the fetch reads and, unless it is
// sessionless, its session.
func (ss *sessions) open(req *kmsg.FetchRequest) ([]want, *session, int16) {
	if req.Version < 7 || req.SessionEpoch < 0 {
		return requestWants(req), nil, 0
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.m == nil {
		ss.m = map[int32]*session{}
	}
	if req.SessionEpoch == 0 {
		delete(ss.m, req.SessionID)
		ss.next++
		s := &session{id: ss.next, index: map[wantKey]int{}}
		s.update(req)
		ss.m[s.id] = s
		return s.wants, s, 0
	}
	s := ss.m[req.SessionID]
	if s == nil {
		return nil, nil, kerr.FetchSessionIDNotFound.Code
	}
	s.update(req)
	return s.wants, s, 0
}

func requestWants(req *kmsg.FetchRequest) []want {
	var out []want
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			out = append(out, want{rt.Topic, rt.TopicID, rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes})
		}
	}
	return out
}

// update applies the request's partitions, then its forgotten ones.
func (s *session) update(req *kmsg.FetchRequest) {
	for _, w := range requestWants(req) {
		k := wantKey{w.name, w.id, w.partition}
		if i, ok := s.index[k]; ok {
			s.wants[i] = w
			continue
		}
		s.index[k] = len(s.wants)
		s.wants = append(s.wants, w)
	}
	for _, ft := range req.ForgottenTopics {
		for _, p := range ft.Partitions {
			s.forget(wantKey{ft.Topic, ft.TopicID, p})
		}
	}
}

func (s *session) forget(k wantKey) {
	i, ok := s.index[k]
	if !ok {
		return
	}
	s.wants = append(s.wants[:i], s.wants[i+1:]...)
	delete(s.index, k)
	for j := i; j < len(s.wants); j++ {
		w := s.wants[j]
		s.index[wantKey{w.name, w.id, w.partition}] = j
	}
}
