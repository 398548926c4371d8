package tests

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/partition"
	"sluice/internal/vfs"
)

// deleteRecords deletes the records of partition 0 of topic before offset
// with kadm and returns the low watermark, failing the test on any error.
func deleteRecords(t *testing.T, adm *kadm.Client, topic string, offset int64) int64 {
	t.Helper()
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: topic, Partition: 0, At: offset})
	resp, err := adm.DeleteRecords(testCtx(t, 10*time.Second), os)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := resp.Lookup(topic, 0)
	if !ok || r.Err != nil {
		t.Fatalf("DeleteRecords(%s, %d): %+v", topic, offset, r)
	}
	return r.LowWatermark
}

// checkStartsAt checks that ListOffsets earliest is start and that a
// consumer from the earliest offset reads exactly the values start..end-1
// (one record per offset) in order.
func checkStartsAt(t *testing.T, addr, topic string, start, end int) {
	t.Helper()
	starts, err := newAdmin(t, addr).ListStartOffsets(testCtx(t, 10*time.Second), topic)
	if o, _ := starts.Lookup(topic, 0); err != nil || o.Offset != int64(start) {
		t.Fatalf("ListOffsets earliest: %d %v, want %d", o.Offset, err, start)
	}
	recs := consumeN(t, addr, topic, end-start)
	for i, r := range recs {
		if r.Offset != int64(start+i) || atoi(t, r.Value) != start+i {
			t.Fatalf("record %d from the earliest: offset %d value %s, want %d", i, r.Offset, r.Value, start+i)
		}
	}
}

// DeleteRecords through kadm (KIP-107): the log start moves, a consumer
// from the earliest offset begins there, ListOffsets and Fetch report it,
// a fetch below it is OFFSET_OUT_OF_RANGE, and the segments wholly below
// it are deleted at once.
func TestDeleteRecordsThenConsumeFromEarliest(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	topic := topicName(t, "delrec")
	createTopic(t, adm, topic, 1, map[string]*string{"segment.bytes": sp("1024")})
	produceValues(t, b.Addr(), topic, 0, 100)

	if lw := deleteRecords(t, adm, topic, 40); lw != 40 {
		t.Fatalf("low watermark %d, want 40", lw)
	}
	checkStartsAt(t, b.Addr(), topic, 40, 100)
	bases := segmentBases(t, filepath.Join(b.Cfg.DataDir, topic+"-0"))
	if bases[0] > 40 || len(bases) < 2 || bases[1] <= 40 {
		t.Fatalf("segments %v: want exactly the ones wholly below 40 gone", bases)
	}

	cl := newClient(t, b.Addr())
	resp, err := fetchRaw(testCtx(t, 10*time.Second), cl, topic, 39, 0, 1)
	if err != nil || resp.Topics[0].Partitions[0].ErrorCode != kerr.OffsetOutOfRange.Code {
		t.Fatalf("fetch at 39: %v %+v, want OFFSET_OUT_OF_RANGE", err, resp)
	}
	resp, err = fetchRaw(testCtx(t, 10*time.Second), cl, topic, 40, 0, 1)
	if p := resp.Topics[0].Partitions[0]; err != nil || p.ErrorCode != 0 || p.LogStartOffset != 40 || len(p.RecordBatches) == 0 {
		t.Fatalf("fetch at 40: %v, code %d, log start %d, %d bytes", err, p.ErrorCode, p.LogStartOffset, len(p.RecordBatches))
	}

	// -1: up to the high watermark.
	if lw := deleteRecords(t, adm, topic, -1); lw != 100 {
		t.Fatalf("DeleteRecords(-1): low watermark %d, want the high watermark 100", lw)
	}
	produceValues(t, b.Addr(), topic, 100, 3)
	checkStartsAt(t, b.Addr(), topic, 100, 103)
}

// segmentBases lists the base offsets of a partition directory's segments.
func segmentBases(t *testing.T, dir string) []int64 {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, l := range logs {
		n, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(l), ".log"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// The per-partition answers of DeleteRecords, at v0 (what older clients
// send) and at the newest version, in Kafka's order of checks.
func TestDeleteRecordsErrors(t *testing.T) {
	b := brokertest.Start(t)
	adm := newAdmin(t, b.Addr())
	topic, compacted, both := topicName(t, "plain"), topicName(t, "compact"), topicName(t, "both")
	createTopic(t, adm, topic, 1, nil)
	createTopic(t, adm, compacted, 1, map[string]*string{"cleanup.policy": sp("compact")})
	createTopic(t, adm, both, 1, map[string]*string{"cleanup.policy": sp("compact,delete")})
	produceValues(t, b.Addr(), topic, 0, 10)

	type part struct {
		topic     string
		partition int32
		offset    int64
		code      int16
		low       int64
	}
	for _, version := range []int16{0, 2} {
		cases := []part{
			{topic, 0, 11, kerr.OffsetOutOfRange.Code, -1}, // above the high watermark 10
			{topic, 0, -2, kerr.OffsetOutOfRange.Code, -1},
			{topic, 0, 3, 0, 3},
			{topic, 0, 2, 0, 3}, // below the start: nothing changes
			{topic, 1, 0, kerr.UnknownTopicOrPartition.Code, -1},
			{topic, -1, 0, kerr.UnknownTopicOrPartition.Code, -1},
			{"no-such-topic", 0, 0, kerr.UnknownTopicOrPartition.Code, -1},
			{compacted, 0, 0, kerr.PolicyViolation.Code, -1},
			{both, 0, 0, 0, 0},
			{"__consumer_offsets", 0, 0, kerr.InvalidTopicException.Code, -1},
		}
		if version == 2 {
			cases[2].low, cases[3].low = 5, 5
			cases[2].offset, cases[3].offset = 5, 4
		}
		req := kmsg.NewPtrDeleteRecordsRequest()
		req.TimeoutMillis = 5000
		for _, c := range cases {
			rt := kmsg.NewDeleteRecordsRequestTopic()
			rt.Topic = c.topic
			rp := kmsg.NewDeleteRecordsRequestTopicPartition()
			rp.Partition, rp.Offset = c.partition, c.offset
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
		}
		resp := requestBroker(t, clientAt(t, b.Addr(), req.Key(), version), req).(*kmsg.DeleteRecordsResponse)
		if resp.Version != version || len(resp.Topics) != len(cases) {
			t.Fatalf("v%d: %d topics answered at v%d", version, len(resp.Topics), resp.Version)
		}
		for i, c := range cases {
			rt := resp.Topics[i]
			if len(rt.Partitions) != 1 {
				t.Fatalf("v%d %s: %d partitions answered", version, rt.Topic, len(rt.Partitions))
			}
			p := rt.Partitions[0]
			if rt.Topic != c.topic || p.Partition != c.partition || p.ErrorCode != c.code || p.LowWatermark != c.low {
				t.Errorf("v%d %s/%d offset %d: %s/%d code %d low watermark %d; want code %d low watermark %d",
					version, c.topic, c.partition, c.offset, rt.Topic, p.Partition, p.ErrorCode, p.LowWatermark, c.code, c.low)
			}
		}
	}
	checkStartsAt(t, b.Addr(), topic, 5, 10)
}

// The acceptance criterion of issue 13: an acknowledged DeleteRecords
// survives kill -9 of the broker process.
func TestDeleteRecordsSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	proc := brokertest.StartProcess(t, dir)
	adm := newAdmin(t, proc.Addr)
	topic := topicName(t, "kill")
	createTopic(t, adm, topic, 1, map[string]*string{"segment.bytes": sp("1024")})
	produceValues(t, proc.Addr, topic, 0, 50)
	if lw := deleteRecords(t, adm, topic, 30); lw != 30 {
		t.Fatalf("low watermark %d, want 30", lw)
	}
	proc.Kill()

	restarted := brokertest.StartProcess(t, dir)
	checkStartsAt(t, restarted.Addr, topic, 30, 50)
}

// An acknowledged DeleteRecords survives a power loss, also under
// fsync=interval, where the high watermark (and so the offset -1 names)
// is above what was synced: the log is synced before the start is
// recorded, so recovery finds the records at and after it.
func TestDeleteRecordsSurvivesPowerLoss(t *testing.T) {
	for _, policy := range []partition.FsyncPolicy{partition.FsyncAlways, partition.FsyncInterval} {
		t.Run(policy.String(), func(t *testing.T) {
			mem := vfs.NewMem()
			b := brokertest.Start(t, brokertest.WithFS(mem), brokertest.WithConfig(func(c *broker.Config) {
				c.Fsync, c.FsyncInterval = policy, time.Hour
			}))
			adm := newAdmin(t, b.Addr())
			topic := topicName(t, "power")
			createTopic(t, adm, topic, 1, nil)
			produceValues(t, b.Addr(), topic, 0, 20)
			if lw := deleteRecords(t, adm, topic, 12); lw != 12 {
				t.Fatalf("low watermark %d, want 12", lw)
			}
			produceValues(t, b.Addr(), topic, 20, 10)
			if lw := deleteRecords(t, adm, topic, -1); lw != 30 {
				t.Fatalf("DeleteRecords(-1): low watermark %d, want 30", lw)
			}
			crashed := mem.CrashClone()
			b.Close()

			after := brokertest.StartConfig(t, broker.Config{Listen: "127.0.0.1:0", DataDir: b.Cfg.DataDir, FS: crashed})
			produceValues(t, after.Addr(), topic, 30, 2)
			checkStartsAt(t, after.Addr(), topic, 30, 32)
		})
	}
}
