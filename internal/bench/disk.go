package bench

import (
	"os"
	"slices"
	"time"
)

// diskProbe times appends of 4 KiB, each followed by fdatasync, to a
// fresh file in dir: the disk's own latency for the smallest durable
// write, which the latency mode's target is stated against.
func diskProbe(dir string, n int) ([]time.Duration, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	lat := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if _, err := f.Write(buf); err != nil {
			return nil, err
		}
		if err := fdatasync(f); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	return lat, nil
}
