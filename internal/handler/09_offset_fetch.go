package handler

// OffsetFetch, v1-9.
//
// Returns what the group committed, only commits that are already durable.
// A partition with no commit gets offset -1 and no error. v2 adds a
// top-level error code and a null topic list meaning every committed
// partition; v5 the leader epoch (KIP-320); v7 require_stable (KIP-447):
// a partition whose offset an undecided transaction is about to change
// answers UNSTABLE_OFFSET_COMMIT, and the client retries (the offsets and
// the undecided ones are read at one instant, so a stable answer is never
// the offset from before a transaction whose commit is visible); with a
// null topic list, as in Kafka, only partitions with a committed offset
// are listed, so one whose first offset is still pending is left out, not
// answered UNSTABLE_OFFSET_COMMIT: a client that must know names the
// partitions. v8 asks for several groups at once (KIP-709); v9 carries a
// KIP-848 member id and epoch, which classic groups ignore.

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/group"
)

func init() { register(9, 1, 9, offsetFetch) }

func offsetFetch(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.OffsetFetchRequest)
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version < 8 {
		topics, code := h.fetchGroupOffsets(ctx, req.Group, req.Topics, req.RequireStable)
		resp.ErrorCode = code
		for _, t := range topics {
			st := kmsg.NewOffsetFetchResponseTopic()
			st.Topic = t.Topic
			for _, p := range t.Partitions {
				sp := kmsg.NewOffsetFetchResponseTopicPartition()
				sp.Partition, sp.Offset, sp.LeaderEpoch, sp.Metadata, sp.ErrorCode = p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return ready(resp)
	}
	for _, g := range req.Groups {
		var rts []kmsg.OffsetFetchRequestTopic
		if g.Topics != nil {
			rts = make([]kmsg.OffsetFetchRequestTopic, 0, len(g.Topics))
			for _, t := range g.Topics {
				rt := kmsg.NewOffsetFetchRequestTopic()
				rt.Topic, rt.Partitions = t.Topic, t.Partitions
				rts = append(rts, rt)
			}
		}
		topics, code := h.fetchGroupOffsets(ctx, g.Group, rts, req.RequireStable)
		sg := kmsg.NewOffsetFetchResponseGroup()
		sg.Group, sg.ErrorCode, sg.Topics = g.Group, code, topics
		resp.Groups = append(resp.Groups, sg)
	}
	return ready(resp)
}

// fetchGroupOffsets answers one group in the v8+ shape (the older shape is
// copied from it).
func (h *Handler) fetchGroupOffsets(ctx context.Context, g string, rts []kmsg.OffsetFetchRequestTopic, requireStable bool) ([]kmsg.OffsetFetchResponseGroupTopic, int16) {
	if g == "" {
		return nil, kerr.InvalidGroupID.Code
	}
	if !h.authorized(ctx, acl.OpDescribe, acl.ResourceGroup, g) {
		return nil, kerr.GroupAuthorizationFailed.Code
	}
	topicOK := h.topicAuth(ctx, acl.OpDescribe)
	all := rts == nil
	var tps []group.TopicPartition
	if rts != nil {
		tps = []group.TopicPartition{}
		for _, rt := range rts {
			for _, p := range rt.Partitions {
				tps = append(tps, group.TopicPartition{Topic: rt.Topic, Partition: p})
			}
		}
	}
	var got map[group.TopicPartition]group.Committed
	var unstable map[group.TopicPartition]bool
	if requireStable {
		got, unstable = h.env.Groups.FetchStable(g, tps)
	} else {
		got = h.env.Groups.Fetch(g, tps)
	}
	if tps == nil {
		for tp := range got {
			tps = append(tps, tp)
		}
		slices.SortFunc(tps, func(a, b group.TopicPartition) int {
			if a.Topic != b.Topic {
				if a.Topic < b.Topic {
					return -1
				}
				return 1
			}
			return int(a.Partition - b.Partition)
		})
	}
	var out []kmsg.OffsetFetchResponseGroupTopic
	for _, tp := range tps {
		denied := !topicOK.allowed(tp.Topic)
		if denied && all {
			continue // the group's offsets of topics the principal may not see are left out
		}
		if len(out) == 0 || out[len(out)-1].Topic != tp.Topic {
			st := kmsg.NewOffsetFetchResponseGroupTopic()
			st.Topic = tp.Topic
			out = append(out, st)
		}
		sp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
		sp.Partition, sp.Offset, sp.LeaderEpoch = tp.Partition, -1, -1
		if c, ok := got[tp]; ok {
			sp.Offset, sp.LeaderEpoch = c.Offset, c.LeaderEpoch
			m := c.Metadata
			sp.Metadata = &m
		} else {
			empty := ""
			sp.Metadata = &empty
		}
		if unstable[tp] {
			sp.Offset, sp.ErrorCode = -1, kerr.UnstableOffsetCommit.Code
		}
		if denied {
			sp.Offset, sp.LeaderEpoch, sp.ErrorCode = -1, -1, kerr.TopicAuthorizationFailed.Code
			empty := ""
			sp.Metadata = &empty
		}
		st := &out[len(out)-1]
		st.Partitions = append(st.Partitions, sp)
	}
	return out, 0
}
