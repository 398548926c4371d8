package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"sluice/internal/group"
	"sluice/internal/topics"
	"sluice/internal/txn"
)

var (
	gtpLabels = []string{"consumergroup", "topic", "partition"}

	descGroups = prometheus.NewDesc("kafka_coordinator_group_groupmetadatamanager_numgroups",
		"Consumer groups the coordinator knows, in any state.", nil, nil)
	descMembers = prometheus.NewDesc("kafka_consumergroup_members",
		"Members of the consumer group.", []string{"consumergroup"}, nil)
	descGroupOffset = prometheus.NewDesc("kafka_consumergroup_current_offset",
		"The group's committed offset for the partition.", gtpLabels, nil)
	descLag = prometheus.NewDesc("kafka_consumergroup_lag",
		"Records the group has yet to consume in the partition: its high watermark minus the committed offset (never below 0).", gtpLabels, nil)
	descTxnsOpen = prometheus.NewDesc("sluice_transactions_open",
		"Transactions begun and not yet completed (Ongoing, PrepareCommit or PrepareAbort).", nil, nil)
)

// collectGroups reports each group's members and, for every partition it
// has committed an offset for, the offset and the lag behind the
// partition's high watermark (what a consumer can read).
func collectGroups(ch chan<- prometheus.Metric, gs *group.Service, tm *topics.Manager) {
	listed := gs.List(nil)
	ch <- gauge(descGroups, float64(len(listed)))
	for _, l := range listed {
		if d, ok := gs.Describe(l.Group); ok {
			ch <- gauge(descMembers, float64(len(d.Members)), l.Group)
		}
		for tp, c := range gs.Fetch(l.Group, nil) {
			part := strconv.Itoa(int(tp.Partition))
			ch <- gauge(descGroupOffset, float64(c.Offset), l.Group, tp.Topic, part)
			if p := tm.Partition(tp.Topic, tp.Partition); p != nil {
				ch <- gauge(descLag, float64(max(p.HighWatermark()-c.Offset, 0)), l.Group, tp.Topic, part)
			}
		}
	}
}

func collectTxns(ch chan<- prometheus.Metric, ts *txn.Service) {
	open := 0
	for _, t := range ts.All() {
		switch t.State {
		case txn.Ongoing, txn.PrepareCommit, txn.PrepareAbort:
			open++
		}
	}
	ch <- gauge(descTxnsOpen, float64(open))
}
