package topics

import (
	"context"
	"testing"
	"time"

	"sluice/internal/metadata"
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
