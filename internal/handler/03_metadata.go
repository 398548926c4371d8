package handler

// Metadata, v0-12.
//
// One broker leads every partition with leader epoch 0. v1 distinguishes a
// null topic list (all topics) from an empty one (none); v0 treats empty as
// all. v4 adds allow_auto_topic_creation, honoured only when the broker
// enables auto-creation (off by default). v10 adds topic ids (KIP-516); a
// topic asked for by id that does not exist gets UNKNOWN_TOPIC_ID.

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/metadata"
	"sluice/internal/topics"
)

func init() { register(3, 0, 12, metadataHandler) }

func metadataHandler(h *Handler, _ context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	b := kmsg.NewMetadataResponseBroker()
	b.NodeID, b.Host, b.Port = h.env.NodeID, h.env.Host, h.env.Port
	resp.Brokers = append(resp.Brokers, b)
	clusterID := h.env.Topics.ClusterID()
	resp.ClusterID = &clusterID
	resp.ControllerID = h.env.NodeID

	if req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0) {
		for _, t := range sortedTopics(h.env.Topics.All()) {
			resp.Topics = append(resp.Topics, h.metadataTopic(t))
		}
		return ready(resp)
	}
	autoCreate := h.env.AutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
	for _, rt := range req.Topics {
		resp.Topics = append(resp.Topics, h.lookupTopic(rt, autoCreate))
	}
	return ready(resp)
}

func (h *Handler) lookupTopic(rt kmsg.MetadataRequestTopic, autoCreate bool) kmsg.MetadataResponseTopic {
	if rt.Topic == nil {
		t := h.env.Topics.GetByID(metadata.TopicID(rt.TopicID))
		if t == nil {
			mt := kmsg.NewMetadataResponseTopic()
			mt.TopicID = rt.TopicID
			mt.ErrorCode = kerr.UnknownTopicID.Code
			return mt
		}
		return h.metadataTopic(t)
	}
	name := *rt.Topic
	t := h.env.Topics.Get(name)
	if t == nil && autoCreate {
		created, err := h.env.Topics.Create(topics.CreateRequest{Name: name, Partitions: -1, ReplicationFactor: -1})
		switch {
		case err == nil:
			t = created
		case errors.Is(err, topics.ErrTopicExists):
			t = h.env.Topics.Get(name)
		default:
			mt := kmsg.NewMetadataResponseTopic()
			mt.Topic = &name
			mt.ErrorCode = topicErrorCode(err)
			return mt
		}
	}
	if t == nil {
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic = &name
		mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return mt
	}
	return h.metadataTopic(t)
}

func (h *Handler) metadataTopic(t *topics.Topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.Name
	mt.Topic = &name
	mt.TopicID = t.ID
	mt.IsInternal = topics.IsInternal(t.Name)
	for i := range t.Partitions {
		p := kmsg.NewMetadataResponseTopicPartition()
		p.Partition = int32(i)
		p.Leader = h.env.NodeID
		p.LeaderEpoch = 0
		p.Replicas = []int32{h.env.NodeID}
		p.ISR = []int32{h.env.NodeID}
		mt.Partitions = append(mt.Partitions, p)
	}
	return mt
}
