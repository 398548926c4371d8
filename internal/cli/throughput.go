package cli

// Counting what a produce or a copy delivered: the progress line a person
// at a terminal sees while a large input goes through, and the summary at
// the end.

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// counter counts delivered records and their bytes (key, value and
// headers: what the user gave, not what went over the wire).
type counter struct {
	records, bytes atomic.Int64
}

func (c *counter) add(records, bytes int64) {
	c.records.Add(records)
	c.bytes.Add(bytes)
}

func recordSize(r *kgo.Record) int64 {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return int64(n)
}

// Progress appears only on a terminal and only once an input has taken
// longer than progressAfter: a small input finishes without it.
const (
	progressAfter = time.Second
	progressEvery = 250 * time.Millisecond
)

// startProgress rewrites one line on w with the counts until stop is
// called, which erases it. It does nothing unless w is a terminal.
func startProgress(w io.Writer, c *counter) (stop func()) {
	if !isTerminal(w) {
		return func() {}
	}
	return showProgress(w, c, progressAfter, progressEvery)
}

func showProgress(w io.Writer, c *counter, after, every time.Duration) (stop func()) {
	start := time.Now()
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		shown := false
		for {
			select {
			case <-quit:
				if shown {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case now := <-t.C:
				if now.Sub(start) >= after {
					fmt.Fprint(w, "\r\033[K"+progressLine(c.records.Load(), c.bytes.Load(), now.Sub(start)))
					shown = true
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}

func progressLine(records, bytes int64, elapsed time.Duration) string {
	return fmt.Sprintf("%s, %s, %.0fs (%s)", plural(int(records), "record"), humanBytes(bytes), elapsed.Seconds(), rates(records, bytes, elapsed))
}

// elapsedAndRates is the end of a summary line: "in 1.52s (6579
// records/s, 1.2 MiB/s)".
func elapsedAndRates(records, bytes int64, elapsed time.Duration) string {
	return fmt.Sprintf("in %.2fs (%s)", elapsed.Seconds(), rates(records, bytes, elapsed))
}

func rates(records, bytes int64, elapsed time.Duration) string {
	s := elapsed.Seconds()
	if s <= 0 {
		return "- records/s"
	}
	return fmt.Sprintf("%.0f records/s, %s/s", float64(records)/s, humanBytes(int64(float64(bytes)/s)))
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, prefix := float64(n)/unit, 0
	for f >= unit && prefix < 3 {
		f /= unit
		prefix++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGT"[prefix])
}

// isTerminal is true for a character device, which is what a terminal is
// to a process; files and pipes are not.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
