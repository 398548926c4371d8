package handler

// Metadata, v0-12.
//
// Brokers, controller, and each partition's leader, leader epoch,
// replicas and in-sync replicas are the cluster's answers (on one broker:
// this broker, at the epoch its log began at the last start; see package
// partition, epoch.go). A partition the cluster cannot place is answered
// with LEADER_NOT_AVAILABLE and leader -1. v1 distinguishes a
// null topic list (all topics) from an empty one (none); v0 treats empty as
// all. v4 adds allow_auto_topic_creation, honoured only when the broker
// enables auto-creation (off by default). v10 adds topic ids (KIP-516); a
// topic asked for by id that does not exist gets UNKNOWN_TOPIC_ID.
//
// Brokers are given at the addresses advertised for the listener the
// request came in on. A broker without a listener of that name is left
// out, and a partition it leads is answered with leader -1 and
// LISTENER_NOT_FOUND (v6 on; LEADER_NOT_AVAILABLE before), so that a
// misconfigured cluster shows as such rather than sending the client to
// another listener.
//
// With authorization on, a request for all topics lists only those the
// principal may Describe, and a topic it names but may not Describe gets
// TOPIC_AUTHORIZATION_FAILED (whether or not it exists, so that names do
// not leak). Auto-creation needs Create on the cluster or on the topic;
// without it the unknown topic gets TOPIC_AUTHORIZATION_FAILED.
//
// v8 on, when asked, each topic found carries the bitfield of the
// operations the principal may perform on it, and up to v10 the answer
// carries the cluster's (KIP-430); not asked, they stay INT32_MIN.

import (
	"context"
	"errors"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/cluster"
	"sluice/internal/metadata"
	"sluice/internal/topics"
)

func init() { register(3, 0, 12, metadataHandler) }

func metadataHandler(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	listener := ListenerFrom(ctx)
	unreachable := false
	for _, n := range h.env.Cluster.Nodes() {
		n, ok := n.On(listener)
		if !ok {
			unreachable = true
			continue
		}
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host, b.Port = n.ID, n.Host, n.Port
		resp.Brokers = append(resp.Brokers, b)
	}
	if unreachable {
		defer leadersOffListener(resp)
	}
	clusterID := h.env.Topics.ClusterID()
	resp.ClusterID = &clusterID
	resp.ControllerID = h.env.Cluster.ControllerID()

	if req.IncludeClusterAuthorizedOperations && req.Version <= 10 {
		resp.AuthorizedOperations = h.authorizedOperations(ctx, acl.ResourceCluster, acl.ClusterName)
	}
	if req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0) {
		for _, t := range sortedTopics(h.env.Topics.All()) {
			if h.authorizedTopic(ctx, acl.OpDescribe, t.Name) {
				resp.Topics = append(resp.Topics, h.metadataTopic(t))
			}
		}
	} else {
		autoCreate := h.env.AutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
		for _, rt := range req.Topics {
			resp.Topics = append(resp.Topics, h.lookupTopic(ctx, rt, autoCreate))
		}
	}
	if req.IncludeTopicAuthorizedOperations {
		for i := range resp.Topics {
			if t := &resp.Topics[i]; t.ErrorCode == 0 && t.Topic != nil {
				t.AuthorizedOperations = h.authorizedOperations(ctx, acl.ResourceTopic, *t.Topic)
			}
		}
	}
	return ready(resp)
}

// leadersOffListener takes the leader out of every partition whose leader
// is not among resp's brokers: a client could not reach it.
func leadersOffListener(resp *kmsg.MetadataResponse) {
	code := kerr.ListenerNotFound.Code
	if resp.Version < 6 {
		code = kerr.LeaderNotAvailable.Code
	}
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			p := &resp.Topics[i].Partitions[j]
			if p.ErrorCode != 0 || p.Leader == cluster.NoLeader {
				continue
			}
			if !slices.ContainsFunc(resp.Brokers, func(b kmsg.MetadataResponseBroker) bool { return b.NodeID == p.Leader }) {
				p.ErrorCode, p.Leader = code, cluster.NoLeader
			}
		}
	}
}

func (h *Handler) lookupTopic(ctx context.Context, rt kmsg.MetadataRequestTopic, autoCreate bool) kmsg.MetadataResponseTopic {
	denied := func(name *string) kmsg.MetadataResponseTopic {
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic, mt.TopicID = name, rt.TopicID
		mt.ErrorCode = kerr.TopicAuthorizationFailed.Code
		return mt
	}
	if rt.Topic == nil {
		t := h.env.Topics.GetByID(metadata.TopicID(rt.TopicID))
		if t != nil && !h.authorizedTopic(ctx, acl.OpDescribe, t.Name) {
			return denied(nil)
		}
		if t == nil {
			mt := kmsg.NewMetadataResponseTopic()
			mt.TopicID = rt.TopicID
			mt.ErrorCode = kerr.UnknownTopicID.Code
			return mt
		}
		return h.metadataTopic(t)
	}
	name := *rt.Topic
	if !h.authorizedTopic(ctx, acl.OpDescribe, name) {
		return denied(&name)
	}
	t := h.env.Topics.Get(name)
	if t == nil && autoCreate && !h.authorizedCluster(ctx, acl.OpCreate) && !h.authorizedTopic(ctx, acl.OpCreate, name) {
		return denied(&name)
	}
	if t == nil && autoCreate {
		created, err := h.env.Topics.Create(topics.CreateRequest{Name: name, Partitions: -1, ReplicationFactor: -1})
		switch {
		case err == nil:
			// The request that creates a topic is answered as Kafka
			// answers it, LEADER_NOT_AVAILABLE with no partitions; clients
			// retry and the next Metadata finds it. Tools that delete a
			// topic and then check it is gone with an auto-creating
			// Metadata rely on seeing no partitions.
			mt := kmsg.NewMetadataResponseTopic()
			mt.Topic, mt.TopicID = &name, created.ID
			mt.ErrorCode = kerr.LeaderNotAvailable.Code
			return mt
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
		pl, ok := h.env.Cluster.Partition(t.Name, int32(i))
		if !ok {
			p.ErrorCode, p.Leader = kerr.LeaderNotAvailable.Code, cluster.NoLeader
			mt.Partitions = append(mt.Partitions, p)
			continue
		}
		p.Leader, p.LeaderEpoch, p.Replicas, p.ISR = pl.Leader, pl.LeaderEpoch, pl.Replicas, pl.ISR
		mt.Partitions = append(mt.Partitions, p)
	}
	return mt
}
