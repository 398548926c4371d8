package handler

// WriteTxnMarkers, v0-2.
//
// Writes commit or abort markers into partitions: what the transaction
// coordinator does for its own transactions, offered so that an operator
// can end a hanging transaction with standard admin tools (kadm, Kafka's
// kafka-transactions.sh abort). A marker of an epoch older than the
// producer's gets INVALID_PRODUCER_EPOCH for its partition; a partition
// that does not exist UNKNOWN_TOPIC_OR_PARTITION, one another broker leads
// NOT_LEADER_OR_FOLLOWER. Each answer waits until
// its markers are durable.

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/partition"
	"sluice/internal/recordbatch"
	"sluice/internal/txn"
)

func init() { register(27, 0, 2, writeTxnMarkers) }

func writeTxnMarkers(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.WriteTxnMarkersRequest)
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	// Markers are the brokers' own: a client writing one could end
	// anyone's transaction.
	if !h.authorizedCluster(ctx, acl.OpClusterAction) {
		for _, m := range req.Markers {
			sm := kmsg.NewWriteTxnMarkersResponseMarker()
			sm.ProducerID = m.ProducerID
			for _, rt := range m.Topics {
				st := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
				st.Topic = rt.Topic
				for _, idx := range rt.Partitions {
					sp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
					sp.Partition, sp.ErrorCode = idx, kerr.ClusterAuthorizationFailed.Code
					st.Partitions = append(st.Partitions, sp)
				}
				sm.Topics = append(sm.Topics, st)
			}
			resp.Markers = append(resp.Markers, sm)
		}
		return ready(resp)
	}
	return Result{Wait: func() kmsg.Response {
		for _, m := range req.Markers {
			sm := kmsg.NewWriteTxnMarkersResponseMarker()
			sm.ProducerID = m.ProducerID
			cm := recordbatch.ControlMarker{ProducerID: m.ProducerID, Epoch: m.ProducerEpoch, Commit: m.Committed,
				CoordinatorEpoch: m.CoordinatorEpoch, Timestamp: h.env.Clock().UnixMilli()}
			for _, rt := range m.Topics {
				st := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
				st.Topic = rt.Topic
				for _, idx := range rt.Partitions {
					sp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
					sp.Partition = idx
					sp.ErrorCode = h.writeMarker(txn.TopicPartition{Topic: rt.Topic, Partition: idx}, cm)
					st.Partitions = append(st.Partitions, sp)
				}
				sm.Topics = append(sm.Topics, st)
			}
			resp.Markers = append(resp.Markers, sm)
		}
		return resp
	}}
}

func (h *Handler) writeMarker(tp txn.TopicPartition, m recordbatch.ControlMarker) int16 {
	if h.env.Markers == nil {
		return kerr.CoordinatorNotAvailable.Code
	}
	// Only the partition's leader writes its markers (NOT_LEADER_OR_FOLLOWER
	// otherwise, as Kafka answers); markers carry no current leader epoch.
	if _, code := h.leaderCheck(tp.Topic, tp.Partition, -1); code != 0 {
		return code
	}
	err := h.env.Markers.WriteMarker(h.env.Ctx, tp, m)
	var pe *partition.ProducerError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &pe):
		return pe.Code
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return kerr.UnknownTopicOrPartition.Code
	}
	return kerr.KafkaStorageError.Code
}
