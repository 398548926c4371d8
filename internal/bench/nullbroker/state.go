package nullbroker

import (
	"crypto/rand"
	"net"
	"sync"
	"sync/atomic"
)

// state is what the null broker remembers: topics, and per partition the
// count of records acknowledged and the size of the last value.
type state struct {
	host string
	port int32

	mu     sync.RWMutex
	topics map[string]*topic
	byID   map[[16]byte]*topic

	data signal // fired on every produce: wakes long polls
	// producerIDs hands out ids to idempotent producers; nothing checks
	// their sequences.
	producerIDs atomic.Int64
}

type topic struct {
	name  string
	id    [16]byte
	parts []partition
}

type partition struct {
	hw        atomic.Int64
	valueSize atomic.Int32
}

func newState(addr *net.TCPAddr) *state {
	return &state{host: addr.IP.String(), port: int32(addr.Port), topics: map[string]*topic{}, byID: map[[16]byte]*topic{}}
}

// create adds a topic; false if it exists.
func (s *state) create(name string, partitions int32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.topics[name]; ok {
		return false
	}
	t := &topic{name: name, parts: make([]partition, partitions)}
	rand.Read(t.id[:])
	s.topics[name], s.byID[t.id] = t, t
	return true
}

func (s *state) remove(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[name]
	if ok {
		delete(s.topics, name)
		delete(s.byID, t.id)
	}
	return ok
}

func (s *state) topic(name string) *topic {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.topics[name]
}

func (s *state) topicByID(id [16]byte) *topic {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byID[id]
}

func (s *state) all() []*topic {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*topic, 0, len(s.topics))
	for _, t := range s.topics {
		out = append(out, t)
	}
	return out
}

// partition is partition i of t, or nil.
func (t *topic) partition(i int32) *partition {
	if t == nil || i < 0 || int(i) >= len(t.parts) {
		return nil
	}
	return &t.parts[i]
}

// signal is a broadcast: wait returns a channel that the next fire
// closes.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
