package handler

// TxnOffsetCommit, v0-5.
//
// Writes a group's offsets inside the producer's transaction: they become
// visible to OffsetFetch only with the transaction's commit marker. The
// group's offsets partition must be in the transaction (AddOffsetsToTxn),
// so no offsets are written that no marker will decide (KIP-890 part 1):
// else TRANSACTION_ABORTABLE from v4, INVALID_TXN_STATE before. A producer
// of an older epoch is refused with INVALID_PRODUCER_EPOCH. From v3 the request names the consumer's member,
// instance and generation (KIP-447), and a consumer that is no longer the
// group's current member gets UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID or
// ILLEGAL_GENERATION; v0-2 clients are fenced by their epoch alone. v5
// (transactions v2, KIP-890 part 2) adds the group's offsets partition to
// the transaction itself, durably, instead of requiring AddOffsetsToTxn.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/group"
	"sluice/internal/topics"
	"sluice/internal/txn"
)

func init() { register(28, 0, 5, txnOffsetCommit) }

func txnOffsetCommit(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.TxnOffsetCommitRequest)
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	cr := group.TxnCommitRequest{CommitRequest: group.CommitRequest{Group: req.Group, Generation: -1}, ProducerID: req.ProducerID, Epoch: req.ProducerEpoch}
	if req.Version >= 3 {
		cr.MemberID, cr.InstanceID, cr.Generation = req.MemberID, req.InstanceID, req.Generation
	}
	type slot struct{ t, p int }
	var slots []slot
	var denied int16 // the code of every partition when the request is refused whole
	switch {
	case !h.authorized(ctx, acl.OpWrite, acl.ResourceTransactionalID, req.TransactionalID):
		denied = kerr.TransactionalIDAuthorizationFailed.Code
	case !h.authorized(ctx, acl.OpRead, acl.ResourceGroup, req.Group):
		denied = kerr.GroupAuthorizationFailed.Code
	}
	topicOK := h.topicAuth(ctx, acl.OpRead)
	for i, rt := range req.Topics {
		st := kmsg.NewTxnOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			if denied != 0 {
				sp.ErrorCode = denied
			} else if !topicOK.allowed(rt.Topic) {
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			} else if h.env.Topics.Partition(rt.Topic, rp.Partition) == nil {
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else {
				epoch := rp.LeaderEpoch
				if req.Version < 2 {
					epoch = -1
				}
				cr.Offsets = append(cr.Offsets, group.CommitOffset{
					TopicPartition: group.TopicPartition{Topic: rt.Topic, Partition: rp.Partition},
					Offset:         rp.Offset, LeaderEpoch: epoch, Metadata: rp.Metadata,
				})
				slots = append(slots, slot{i, len(st.Partitions)})
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	setAll := func(code int16) kmsg.Response {
		for _, s := range slots {
			resp.Topics[s.t].Partitions[s.p].ErrorCode = code
		}
		return resp
	}
	switch {
	case len(cr.Offsets) == 0:
		return ready(resp)
	case h.env.Txns == nil || h.env.Groups == nil:
		return ready(setAll(kerr.CoordinatorNotAvailable.Code))
	}
	tp := txn.TopicPartition{Topic: topics.OffsetsTopic, Partition: h.env.Groups.PartitionFor(req.Group)}
	if err := h.joinTxn(req.TransactionalID, req.ProducerID, req.ProducerEpoch, []txn.TopicPartition{tp}, req.Version >= 5).Wait(); err != nil {
		return ready(setAll(verifyErrorCode(err, req.Version, abortableTxnOffsetCommitVersion)))
	}
	wait := h.env.Groups.TxnCommit(cr)
	return Result{Wait: func() kmsg.Response {
		codes := wait(context.Background())
		for j, s := range slots {
			resp.Topics[s.t].Partitions[s.p].ErrorCode = codes[j]
		}
		return resp
	}}
}
