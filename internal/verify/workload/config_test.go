package workload

import (
	"flag"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/verify/history"
)

// The runner renders a worker's command line with Args and the worker
// parses it with Flags: every field must survive the trip.
func TestArgsParseBack(t *testing.T) {
	for _, c := range []Config{
		{Role: Producer, Brokers: []string{"a:1", "b:2"}, Process: 7, History: "/h/p7.jsonl", Topic: "in", Partitions: 4,
			Producer: AcksAll, Rate: 50, Seed: 9},
		{Role: EOS, Brokers: []string{"a:1"}, Process: 8, History: "/h/p8.jsonl", Topic: "in", Output: "out", Partitions: 2,
			Group: "g", ReadCommitted: true, SessionTimeout: 2 * time.Second, TxnID: "tx1", AbortEvery: 8, Seed: 1},
		{Role: Assigned, Brokers: []string{"a:1"}, Process: 9, History: "/h/p9.jsonl", Topic: "in", Partitions: 1,
			Group: "g2", Consumer: CommitBefore},
	} {
		var got Config
		fs := flag.NewFlagSet("worker", flag.ContinueOnError)
		got.Flags(fs)
		if err := fs.Parse(c.Args()); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("args %q\nparsed %+v\nwant   %+v", c.Args(), got, c)
		}
		if err := got.validate(); err != nil {
			t.Errorf("%+v: %v", got, err)
		}
	}
}

func TestValidateNamesTheBadField(t *testing.T) {
	c := Config{Role: Consumer, Brokers: []string{"a:1"}, History: "h", Topic: "t", Partitions: 1, Consumer: "whenever"}
	if err := c.validate(); err == nil || err.Error() != "--group is required for consumer\n--consumer \"whenever\": want commit-after, commit-before or auto-commit" {
		t.Fatalf("validate: %v", err)
	}
}

// A commit stores, per partition, the offset after the last record
// polled, as kgo's CommitRecords does; the history says the same.
func TestNextOffsets(t *testing.T) {
	recs := []*kgo.Record{{Topic: "t", Partition: 1, Offset: 4}, {Topic: "t", Partition: 0, Offset: 9}, {Topic: "t", Partition: 1, Offset: 5}}
	want := []history.Position{{Topic: "t", Partition: 0, Offset: 10}, {Topic: "t", Partition: 1, Offset: 6}}
	if got := nextOffsets(recs); !reflect.DeepEqual(got, want) {
		t.Fatalf("nextOffsets = %v, want %v", got, want)
	}
}
