package handler

// Fetch sessions (KIP-227), from Fetch v7. What a request's session id and
// epoch mean:
//
//	epoch -1, any id     sessionless full fetch; a session with that id is closed
//	epoch  0, any id     full fetch that creates a session (id 0 in the
//	                     answer when the cache has no room); a session with
//	                     the request's id is closed first
//	epoch  n > 0, id     incremental fetch on session id, which must be at
//	                     epoch n (INVALID_FETCH_SESSION_EPOCH otherwise;
//	                     FETCH_SESSION_ID_NOT_FOUND for an unknown id)
//
// The -1/-1 form (segmentio/kafka-go) and 0/-1 (librdkafka, sarama) are
// both sessionless, as in Kafka. An incremental fetch lists the partitions
// to add or whose fetch position changed, and forgotten_topics_data those
// to drop; the session remembers the rest. It is answered with the
// partitions that returned records, failed, or whose high watermark, last
// stable offset or log start offset changed since the client was last
// told, and reads the partitions with records last next time, so that
// under max_bytes every partition gets its turn. A session made by a v13+
// fetch names topics by id and is refused to older versions, and the
// reverse (FETCH_SESSION_TOPIC_ID_ERROR, KIP-516).

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/fetchsession"
	"sluice/internal/partition"
	"sluice/internal/topics"
)

type fetchMode uint8

const (
	sessionlessFetch fetchMode = iota
	fullFetch                  // creates a session when answered
	incrementalFetch
)

// fetchCtx is a fetch's relation to its session.
type fetchCtx struct {
	mode    fetchMode
	session *fetchsession.Session // incremental only
	epoch   int32                 // the request's session epoch, incremental only
	auth    *topicAuth            // nil: authorization is off
	// quotaBytes bounds the response below max_bytes under the client's
	// consumer_byte_rate (fetchQuotaBytes); 0: no quota.
	quotaBytes int
}

// openFetch decides the fetch's mode from its session id and epoch and, for
// an incremental fetch, applies its changes to the session. A non-zero code
// is a session error that answers the whole request.
func (h *Handler) openFetch(req *kmsg.FetchRequest) (fetchCtx, int16) {
	if req.Version < 7 {
		return fetchCtx{mode: sessionlessFetch}, 0
	}
	cache := h.env.FetchSessions
	switch req.SessionEpoch {
	case -1, 0:
		if req.SessionID != 0 {
			cache.Remove(req.SessionID) // a full fetch closes the session it names
		}
		if req.SessionEpoch == -1 {
			return fetchCtx{mode: sessionlessFetch}, 0
		}
		return fetchCtx{mode: fullFetch}, 0
	}
	s, err := cache.Incremental(h.env.Clock(), req.SessionID, req.SessionEpoch, req.Version >= 13,
		func(s *fetchsession.Session) { updateSession(req, s) })
	switch {
	case errors.Is(err, fetchsession.ErrNotFound):
		return fetchCtx{}, kerr.FetchSessionIDNotFound.Code
	case errors.Is(err, fetchsession.ErrEpoch):
		return fetchCtx{}, kerr.InvalidFetchSessionEpoch.Code
	case errors.Is(err, fetchsession.ErrTopicIDs):
		return fetchCtx{}, kerr.FetchSessionTopicIDError.Code
	case s == nil:
		return fetchCtx{mode: sessionlessFetch}, 0 // the request forgot every partition: the session is closed
	}
	return fetchCtx{mode: incrementalFetch, session: s, epoch: req.SessionEpoch}, 0
}

// updateSession applies an incremental request to its session: the
// partitions it names are added or changed, then the forgotten ones
// dropped (Kafka's order, so a partition in both is dropped).
func updateSession(req *kmsg.FetchRequest, s *fetchsession.Session) {
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			s.Set(sessionKey(req, rt.Topic, rt.TopicID, rp.Partition), sessionParams(rp))
		}
	}
	for _, ft := range req.ForgottenTopics {
		for _, p := range ft.Partitions {
			s.Forget(sessionKey(req, ft.Topic, ft.TopicID, p))
		}
	}
}

// sessionKey names a partition by topic id from v13, else by name.
func sessionKey(req *kmsg.FetchRequest, topic string, id [16]byte, p int32) fetchsession.Key {
	if req.Version >= 13 {
		return fetchsession.Key{TopicID: id, Partition: p}
	}
	return fetchsession.Key{Topic: topic, Partition: p}
}

func sessionParams(rp kmsg.FetchRequestTopicPartition) fetchsession.Params {
	return fetchsession.Params{FetchOffset: rp.FetchOffset, MaxBytes: rp.PartitionMaxBytes, CurrentLeaderEpoch: rp.CurrentLeaderEpoch}
}

// requestPartition is a session partition as a request would name it.
func requestPartition(p *fetchsession.Partition) kmsg.FetchRequestTopicPartition {
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = p.Partition, p.FetchOffset, p.MaxBytes, p.CurrentLeaderEpoch
	return rp
}

func readOf(sp *kmsg.FetchResponseTopicPartition) fetchsession.Read {
	return fetchsession.Read{HighWatermark: sp.HighWatermark, LastStableOffset: sp.LastStableOffset, LogStartOffset: sp.LogStartOffset,
		Records: len(sp.RecordBatches), Failed: sp.ErrorCode != 0}
}

// createSession offers the cache a session of the full fetch's partitions,
// told what resp tells, and returns its id (0: none).
func (h *Handler) createSession(req *kmsg.FetchRequest, resp *kmsg.FetchResponse) int32 {
	n := 0
	for _, rt := range req.Topics {
		n += len(rt.Partitions)
	}
	parts := make([]fetchsession.Partition, 0, n)
	for i, rt := range req.Topics {
		for j, rp := range rt.Partitions {
			k := sessionKey(req, rt.Topic, rt.TopicID, rp.Partition)
			parts = append(parts, fetchsession.NewPartition(k, sessionParams(rp), readOf(&resp.Topics[i].Partitions[j])))
		}
	}
	return h.env.FetchSessions.Create(h.env.Clock(), fromFollower(req), req.Version >= 13, parts)
}

// fromFollower reports a fetch by a replica, whose sessions Kafka
// privileges over consumers' (replica_id moved into replica_state in v15,
// KIP-903).
func fromFollower(req *kmsg.FetchRequest) bool {
	if req.Version >= 15 {
		return req.ReplicaState.ID >= 0
	}
	return req.ReplicaID >= 0
}

// sessionPass is fetchPass for an incremental fetch.
func (h *Handler) sessionPass(req *kmsg.FetchRequest, f *fetchCtx, last bool) (*kmsg.FetchResponse, bool) {
	resp, tally, err := h.readSession(req, f)
	if err == nil && !last && !tally.enough(req) {
		return resp, false
	}
	if err == nil {
		err = f.session.Finish(f.epoch)
	}
	if err != nil { // a later request of the session overtook this one
		return fetchError(req, kerr.InvalidFetchSessionEpoch.Code, f.session.ID()), true
	}
	resp.SessionID = f.session.ID()
	return resp, true
}

// readSession reads every partition of the session, in its order, into a
// response carrying only those with something new; runs of partitions of
// one topic share a response topic.
func (h *Handler) readSession(req *kmsg.FetchRequest, f *fetchCtx) (*kmsg.FetchResponse, fetchTally, error) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	tally := newTally(req, f)
	var tc topicCache
	err := f.session.Visit(f.epoch, func(p *fetchsession.Partition) {
		sp := kmsg.NewFetchResponseTopicPartition()
		sp.Partition = p.Partition
		h.fetchPartition(req, tc.get(h, req, p.Key), requestPartition(p), &sp, &tally)
		if p.Offer(readOf(&sp)) {
			appendPartition(resp, p.Key, sp)
		}
	})
	return resp, tally, err
}

func (h *Handler) sessionWatchSet(req *kmsg.FetchRequest, f *fetchCtx) []*partition.Partition {
	var out []*partition.Partition
	var tc topicCache
	_ = f.session.Visit(f.epoch, func(p *fetchsession.Partition) {
		if pp := topicPartition(tc.get(h, req, p.Key), p.Partition); pp != nil {
			out = append(out, pp)
		}
	})
	return out
}

// topicCache resolves a session's topics, remembering the last one: a
// session's partitions mostly come in runs of one topic.
type topicCache struct {
	name string
	id   [16]byte
	t    *topics.Topic
	ok   bool
}

func (c *topicCache) get(h *Handler, req *kmsg.FetchRequest, k fetchsession.Key) *topics.Topic {
	if !c.ok || c.name != k.Topic || c.id != k.TopicID {
		c.name, c.id, c.t, c.ok = k.Topic, k.TopicID, h.fetchTopic(req, k.Topic, k.TopicID), true
	}
	return c.t
}

// appendPartition adds sp to the response, under the last topic if it is
// k's, else under a new one.
func appendPartition(resp *kmsg.FetchResponse, k fetchsession.Key, sp kmsg.FetchResponseTopicPartition) {
	n := len(resp.Topics)
	if n == 0 || resp.Topics[n-1].Topic != k.Topic || resp.Topics[n-1].TopicID != k.TopicID {
		st := kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = k.Topic, k.TopicID
		resp.Topics = append(resp.Topics, st)
		n++
	}
	resp.Topics[n-1].Partitions = append(resp.Topics[n-1].Partitions, sp)
}

// fetchError is a response carrying only a session error.
func fetchError(req *kmsg.FetchRequest, code int16, sessionID int32) *kmsg.FetchResponse {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	resp.ErrorCode, resp.SessionID = code, sessionID
	return resp
}
