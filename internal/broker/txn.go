package broker

import (
	"context"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"

	"sluice/internal/group"
	"sluice/internal/metadata"
	"sluice/internal/producerid"
	"sluice/internal/recordbatch"
	"sluice/internal/topics"
	"sluice/internal/txn"
)

// openTxns opens (creating on first start) the internal transaction-state
// topic and loads the transaction coordinator from it; transactions left
// prepared by a crash have their markers written again.
func openTxns(cfg Config, tm *topics.Manager, groups *group.Service, ids *producerid.Allocator) (*txn.Service, txn.MarkerWriter, error) {
	t, err := tm.EnsureInternal(topics.TxnStateTopic, cfg.TxnStatePartitions, map[string]string{
		metadata.CfgCleanupPolicy: "compact", metadata.CfgRetentionMs: "-1", metadata.CfgRetentionBytes: "-1",
		metadata.CfgSegmentBytes: strconv.Itoa(100 << 20),
	})
	if err != nil {
		return nil, nil, err
	}
	markers := markerRouter{topics: tm, groups: groups}
	s, err := txn.NewService(txn.ServiceConfig{
		Coordinator: txn.Config{MaxTimeoutMs: int32(cfg.TxnMaxTimeout.Milliseconds()), IDExpirationMs: cfg.TxnIDExpiration.Milliseconds()},
		Logger:      cfg.Logger, Clock: cfg.Clock, Observer: cfg.metrics,
		OpenTxns: openTxnsIn(tm),
	}, t.Partitions, ids, markers)
	return s, markers, err
}

// openTxnsIn lists the transactions the user topics' partitions hold open,
// for the coordinator to reconcile at start (txn.ServiceConfig.OpenTxns).
// The internal topics' transactions are added before they are written.
func openTxnsIn(tm *topics.Manager) []txn.OpenTxn {
	var open []txn.OpenTxn
	for name, t := range tm.All() {
		if topics.IsInternal(name) {
			continue
		}
		for i, p := range t.Partitions {
			for _, pr := range p.Producers() {
				if pr.CurrentTxnStartOffset >= 0 {
					open = append(open, txn.OpenTxn{TP: txn.TopicPartition{Topic: name, Partition: int32(i)},
						ProducerID: pr.ProducerID, Epoch: pr.Epoch, FirstOffset: pr.CurrentTxnStartOffset})
				}
			}
		}
	}
	return open
}

// markerRouter writes a transaction marker where it belongs: into a
// partition of a topic, or, for the offsets topic, through the group
// service, which then decides the transaction's offsets.
type markerRouter struct {
	topics *topics.Manager
	groups *group.Service
}

func (r markerRouter) WriteMarker(ctx context.Context, tp txn.TopicPartition, m recordbatch.ControlMarker) error {
	if tp.Topic == topics.OffsetsTopic {
		return r.groups.WriteMarker(ctx, tp.Partition, m)
	}
	p := r.topics.Partition(tp.Topic, tp.Partition)
	if p == nil {
		return kerr.UnknownTopicOrPartition
	}
	res, err := p.AppendMarker(m)
	if err != nil {
		return err
	}
	return p.WaitDurable(ctx, res.NextOffset)
}

// keepProducerIDsFresh raises the catalog's producer-id high mark above
// every producer id the partitions and the transaction log hold. The
// catalog records each block of ids before handing it out, so normally
// this changes nothing; but a catalog restored from an older copy, or one
// recovered past lost records (--recover-catalog), would hand those ids
// out again, and a partition would take the new producer's first batches
// for duplicates of the old one's: acknowledged, and not stored.
func keepProducerIDsFresh(cfg Config, tm *topics.Manager, txns *txn.Service) error {
	highest := int64(-1)
	for _, t := range tm.All() {
		for _, p := range t.Partitions {
			for _, pr := range p.Producers() {
				highest = max(highest, pr.ProducerID)
			}
		}
	}
	for _, t := range txns.All() {
		highest = max(highest, t.ProducerID, t.PrevProducerID, t.NextProducerID)
	}
	mark := tm.ProducerIDHighMark()
	raised, err := tm.RaiseProducerIDs(highest + 1)
	if err != nil {
		return fmt.Errorf("raise the producer-id mark above %d: %w", highest, err)
	}
	if raised {
		cfg.Logger.Warn("the catalog's producer-id mark was below ids the data holds (a catalog restored from an older copy, or recovered past lost records); raised, so that no id is handed out twice",
			"mark", mark, "highestInData", highest)
	}
	return nil
}
