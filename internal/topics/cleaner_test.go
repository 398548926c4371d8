package topics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sluice/internal/metadata"
	"sluice/internal/partition"
	"sluice/internal/recordbatch"
	"sluice/internal/vfs"
)

func TestRetentionOnlyWithDeletePolicy(t *testing.T) {
	for _, tc := range []struct {
		policy    string
		retention bool
		compact   bool
	}{
		{"delete", true, false},
		{"compact", false, true},
		{"compact,delete", true, true},
		{"delete, compact", true, true},
	} {
		c := metadata.Resolve(map[string]string{metadata.CfgCleanupPolicy: tc.policy,
			metadata.CfgRetentionMs: "1000", metadata.CfgRetentionBytes: "2000", metadata.CfgMaxCompactionLagMs: "60000"})
		lc := logConfig(c, nil)
		if got := lc.RetentionAge >= 0 && lc.RetentionBytes >= 0; got != tc.retention {
			t.Errorf("%s: retention %v/%d, want applied=%v", tc.policy, lc.RetentionAge, lc.RetentionBytes, tc.retention)
		}
		if pc := compaction(c); pc.Enabled != tc.compact {
			t.Errorf("%s: compaction %v, want %v", tc.policy, pc.Enabled, tc.compact)
		}
		// A compacted topic rolls by max.compaction.lag.ms too.
		if wantAge := map[bool]time.Duration{true: time.Minute, false: 7 * 24 * time.Hour}[tc.compact]; lc.SegmentAge != wantAge {
			t.Errorf("%s: segment age %v, want %v", tc.policy, lc.SegmentAge, wantAge)
		}
	}
}

func TestThrottleHoldsTheRate(t *testing.T) {
	throttle := newThrottle(context.Background(), 1_000_000)
	start := time.Now()
	for range 10 {
		if err := throttle(20_000); err != nil {
			t.Fatal(err)
		}
	}
	// 200 kB at 1 MB/s: at least 200 ms.
	if took := time.Since(start); took < 190*time.Millisecond {
		t.Fatalf("200 kB took %v at 1 MB/s", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := newThrottle(ctx, 1)(1000); err == nil {
		t.Fatal("a throttle whose context ended did not abort the cleaning")
	}
}

// appendKeyed appends a batch of records key-0..key-(n-1) with value v.
func appendKeyed(t *testing.T, p *partition.Partition, n int, v string) {
	t.Helper()
	var rs []recordbatch.Record
	for k := range n {
		rs = append(rs, recordbatch.Record{Key: []byte(fmt.Sprintf("key-%d", k)), Value: []byte(v)})
	}
	res, err := p.Append(recordbatch.Build(nil, rs, time.Now().UnixMilli(), 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitDurable(context.Background(), res.NextOffset); err != nil {
		t.Fatal(err)
	}
}

// The cleaner takes the dirtiest due partition first, cleans each due
// partition once per pass, and leaves delete-policy and internal topics.
func TestCleanerPicksDirtiestFirst(t *testing.T) {
	m, err := Open(vfs.NewMem(), Config{DataDir: "/data"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	compact := map[string]string{metadata.CfgCleanupPolicy: "compact", metadata.CfgMinCleanableDirtyRatio: "0.1"}
	for _, name := range []string{"fresh", "cleaned", "plain"} {
		cfg := compact
		if name == "plain" {
			cfg = nil
		}
		if _, err := m.Create(CreateRequest{Name: name, Partitions: 1, ReplicationFactor: 1, Configs: cfg}); err != nil {
			t.Fatal(err)
		}
		p := m.Partition(name, 0)
		appendKeyed(t, p, 50, "1")
		p.Roll()
	}
	c := m.NewCleaner(CleanerConfig{})
	// "cleaned" is cleaned once, then made a little dirty.
	if _, err := m.Partition("cleaned", 0).Clean(time.Now(), partition.CleanOptions{}); err != nil {
		t.Fatal(err)
	}
	appendKeyed(t, m.Partition("cleaned", 0), 10, "2")
	m.Partition("cleaned", 0).Roll()

	done := map[*partition.Partition]bool{}
	var order []string
	for {
		tp, p := c.dirtiest(done)
		if p == nil {
			break
		}
		done[p] = true
		order = append(order, tp.Name)
	}
	if fmt.Sprint(order) != "[fresh cleaned]" {
		t.Fatalf("cleaning order %v, want [fresh cleaned]", order)
	}
	if n := c.pass(context.Background()); n != 2 {
		t.Fatalf("a pass cleaned %d partitions, want 2", n)
	}
	if n := c.pass(context.Background()); n != 0 {
		t.Fatalf("a second pass cleaned %d partitions, want 0", n)
	}
}
