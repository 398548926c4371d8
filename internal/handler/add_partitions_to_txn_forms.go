package handler

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/txn"
)

// The two forms of AddPartitionsToTxn: a producer's request (v0-3) is
// handled as the one transaction of the brokers' batched form (v4+), and
// its answer taken back out of it, as Kafka's request class does.

// producerTxn is a v0-3 request as one transaction.
func producerTxn(req *kmsg.AddPartitionsToTxnRequest) kmsg.AddPartitionsToTxnRequestTransaction {
	t := kmsg.NewAddPartitionsToTxnRequestTransaction()
	t.TransactionalID, t.ProducerID, t.ProducerEpoch = req.TransactionalID, req.ProducerID, req.ProducerEpoch
	for _, rt := range req.Topics {
		tt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
		tt.Topic, tt.Partitions = rt.Topic, rt.Partitions
		t.Topics = append(t.Topics, tt)
	}
	return t
}

// producerTopics is a transaction's result in the v0-3 response's shape.
func producerTopics(res kmsg.AddPartitionsToTxnResponseTransaction) []kmsg.AddPartitionsToTxnResponseTopic {
	out := make([]kmsg.AddPartitionsToTxnResponseTopic, 0, len(res.Topics))
	for _, rt := range res.Topics {
		st := kmsg.NewAddPartitionsToTxnResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
			sp.Partition, sp.ErrorCode = rp.Partition, rp.ErrorCode
			st.Partitions = append(st.Partitions, sp)
		}
		out = append(out, st)
	}
	return out
}

// txnPartitions lists a transaction's partitions in request order.
func txnPartitions(topics []kmsg.AddPartitionsToTxnRequestTransactionTopic) []txn.TopicPartition {
	var tps []txn.TopicPartition
	for _, rt := range topics {
		for _, p := range rt.Partitions {
			tps = append(tps, txn.TopicPartition{Topic: rt.Topic, Partition: p})
		}
	}
	return tps
}

// txnResult is a transaction's answer: codes[i] for its i-th partition in
// request order.
func txnResult(t kmsg.AddPartitionsToTxnRequestTransaction, codes []int16) kmsg.AddPartitionsToTxnResponseTransaction {
	res := kmsg.NewAddPartitionsToTxnResponseTransaction()
	res.TransactionalID = t.TransactionalID
	i := 0
	for _, rt := range t.Topics {
		st := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
		st.Topic = rt.Topic
		for _, p := range rt.Partitions {
			sp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
			sp.Partition, sp.ErrorCode = p, codes[i]
			st.Partitions = append(st.Partitions, sp)
			i++
		}
		res.Topics = append(res.Topics, st)
	}
	return res
}
