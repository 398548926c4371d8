package handler

// CreateTopics, v2-7.
//
// A topic named twice in one request gets INVALID_REQUEST. num_partitions
// and replication_factor of -1 take the broker defaults (KIP-464); with one
// broker only replication factor 1 is possible (else
// INVALID_REPLICATION_FACTOR). A manual replica assignment is accepted only
// if every replica list is exactly one node of the cluster (on one broker:
// this broker). Unknown config keys or bad
// values get INVALID_CONFIG. validate_only checks everything and creates
// nothing. v5 returns the resulting configs, partitions and replication
// factor (KIP-525); v7 the topic id.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/topics"
)

func init() { register(19, 2, 7, createTopics) }

func createTopics(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	clusterCreate := h.authorizedCluster(ctx, acl.OpCreate)
	seen := map[string]int{}
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		if seen[rt.Topic] > 1 {
			setCreateError(&st, kerr.InvalidRequest.Code, "topic named more than once in the request")
		} else if !clusterCreate && !h.authorizedTopic(ctx, acl.OpCreate, rt.Topic) {
			setCreateError(&st, kerr.TopicAuthorizationFailed.Code, "creating the topic needs Create on the cluster or on the topic")
		} else {
			h.createTopic(req, rt, &st)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return ready(resp)
}

func (h *Handler) createTopic(req *kmsg.CreateTopicsRequest, rt kmsg.CreateTopicsRequestTopic, st *kmsg.CreateTopicsResponseTopic) {
	cr := topics.CreateRequest{
		Name: rt.Topic, Partitions: rt.NumPartitions, ReplicationFactor: rt.ReplicationFactor,
		Configs: map[string]string{}, ValidateOnly: req.ValidateOnly,
	}
	if len(rt.ReplicaAssignment) > 0 {
		if rt.NumPartitions != -1 || rt.ReplicationFactor != -1 {
			setCreateError(st, kerr.InvalidRequest.Code, "replica assignment given with partitions or replication factor")
			return
		}
		for _, a := range rt.ReplicaAssignment {
			if !h.assignable(a.Replicas) {
				setCreateError(st, kerr.InvalidReplicaAssignment.Code, "every replica list must be one node of the cluster")
				return
			}
		}
		cr.Partitions, cr.ReplicationFactor = int32(len(rt.ReplicaAssignment)), 1
	}
	for _, c := range rt.Configs {
		if c.Value == nil {
			setCreateError(st, kerr.InvalidConfig.Code, "null value for config "+c.Name)
			return
		}
		cr.Configs[c.Name] = *c.Value
	}
	t, err := h.env.Topics.Create(cr)
	if err != nil {
		setCreateError(st, topicErrorCode(err), err.Error())
		return
	}
	st.NumPartitions, st.ReplicationFactor = cr.Partitions, 1
	if st.NumPartitions == -1 {
		st.NumPartitions = h.env.Topics.DefaultPartitions()
	}
	if t == nil { // validate only
		return
	}
	st.TopicID = t.ID
	for _, e := range h.env.Topics.EffectiveConfig(t) {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		v := e.Value
		c.Name, c.Value, c.Source = e.Name, &v, configSource(e.Source)
		st.Configs = append(st.Configs, c)
	}
}

func setCreateError(st *kmsg.CreateTopicsResponseTopic, code int16, msg string) {
	st.ErrorCode = code
	st.ErrorMessage = &msg
	st.NumPartitions, st.ReplicationFactor = -1, -1
}
