package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// LatencyConfig is the fixed-rate mode: a producer writes Rate records a
// second of Size bytes for Duration, with no linger, to a topic of
// Partitions partitions, while a consumer reads it; produce latency is
// from each record's Produce call to its acknowledgement.
type LatencyConfig struct {
	Rate       int           // default 2,000 records/s
	Duration   time.Duration // default 10 s
	Size       int           // default 1 KiB
	Partitions int32         // default 1
}

func (c *LatencyConfig) setDefaults() {
	if c.Rate <= 0 {
		c.Rate = 2000
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Size <= 0 {
		c.Size = 1024
	}
	if c.Partitions <= 0 {
		c.Partitions = 1
	}
}

// diskProbeWrites is how many 4 KiB append+fdatasync pairs a run times.
const diskProbeWrites = 2000

// LatencyReport is the fixed-rate mode's result.
type LatencyReport struct {
	Info    string
	Config  LatencyConfig
	Kinds   []Kind
	Results map[Kind]LatencySummary
	// Disk is the data dir's 4 KiB append+fdatasync latency, medians of
	// each run's percentiles.
	Disk LatencySummary
}

// LatencySummary is the medians over runs of each percentile.
type LatencySummary struct {
	Runs           int
	P50, P99, P999 time.Duration
	// AnswerP99 and AnswerP999 are of the produce requests' answer times
	// as the client saw them (last byte written to response read): what
	// of a record's latency the broker and the network took, the rest
	// being the record's wait in the client behind the request in
	// flight. Zero when unmeasured (the disk probe).
	AnswerP99, AnswerP999 time.Duration
	CPU                   float64 // broker cores used; 0 unmeasured
	Errs                  []error
	p50s, p99s, p9s       []float64
	a99s, a999s           []float64
	cpus                  []float64
}

func (s *LatencySummary) add(sorted, answers []time.Duration, cpu float64) {
	s.Runs++
	s.p50s = append(s.p50s, float64(percentile(sorted, 0.5)))
	s.p99s = append(s.p99s, float64(percentile(sorted, 0.99)))
	s.p9s = append(s.p9s, float64(percentile(sorted, 0.999)))
	if len(answers) > 0 {
		s.a99s = append(s.a99s, float64(percentile(answers, 0.99)))
		s.a999s = append(s.a999s, float64(percentile(answers, 0.999)))
	}
	if cpu > 0 {
		s.cpus = append(s.cpus, cpu)
	}
	s.P50, s.P99, s.P999 = time.Duration(median(s.p50s)), time.Duration(median(s.p99s)), time.Duration(median(s.p9s))
	s.AnswerP99, s.AnswerP999 = time.Duration(median(s.a99s)), time.Duration(median(s.a999s))
	s.CPU = median(s.cpus)
}

// RunLatency runs the fixed-rate mode against every target, alternating
// them run by run, with a disk probe at the start of each run.
func RunLatency(ctx context.Context, cfg Config) (*LatencyReport, error) {
	cfg.setDefaults()
	cfg.Latency.setDefaults()
	targets, err := startTargets(cfg)
	if err != nil {
		return nil, err
	}
	defer closeTargets(targets)
	rep := &LatencyReport{Info: newReport(cfg).Info, Config: cfg.Latency, Kinds: cfg.Kinds, Results: map[Kind]LatencySummary{}}
	payload := make([]byte, cfg.Latency.Size)
	rand.Read(payload)
	for run := 1; run <= cfg.Runs; run++ {
		disk, err := diskProbe(cfg.DataDir, diskProbeWrites)
		if err != nil {
			return nil, fmt.Errorf("disk probe: %w", err)
		}
		rep.Disk.add(disk, nil, 0)
		fmt.Fprintf(cfg.Progress, "disk         run %d: 4 KiB append+fdatasync p50 %s p99 %s\n", run, fmtDur(percentile(disk, 0.5)), fmtDur(percentile(disk, 0.99)))
		for _, t := range targets {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			s := rep.Results[t.kind]
			lat, answers, cpu, err := latencyOnce(ctx, cfg.Latency, payload, t, run)
			if err != nil {
				s.Errs = append(s.Errs, fmt.Errorf("%s run %d: %w", t.kind, run, err))
				fmt.Fprintf(cfg.Progress, "%-12s run %d: ERROR %v\n", t.kind, run, err)
			} else {
				s.add(lat, answers, cpu)
				fmt.Fprintf(cfg.Progress, "%-12s run %d: p50 %s p99 %s p99.9 %s; requests answered p99 %s p99.9 %s\n", t.kind, run,
					fmtDur(percentile(lat, 0.5)), fmtDur(percentile(lat, 0.99)), fmtDur(percentile(lat, 0.999)),
					fmtDur(percentile(answers, 0.99)), fmtDur(percentile(answers, 0.999)))
			}
			rep.Results[t.kind] = s
		}
	}
	rep.Info += ", at end " + loadAvg()
	return rep, nil
}

// latencyOnce is one fixed-rate run on a fresh topic; it returns the
// sorted latencies, the sorted answer times of the produce requests, and
// the broker's cores used.
func latencyOnce(ctx context.Context, lc LatencyConfig, payload []byte, t *target, run int) (lat, answers []time.Duration, cpu float64, err error) {
	topic := fmt.Sprintf("bench-latency-r%d-%d", run, time.Now().UnixNano())
	_, err = onTopic(ctx, t, topic, lc.Partitions, func() (runResult, error) {
		lat, answers, cpu, err = fixedRate(ctx, lc, payload, t, topic)
		return runResult{}, err
	})
	return lat, answers, cpu, err
}

func fixedRate(ctx context.Context, lc LatencyConfig, payload []byte, t *target, topic string) (lat, answers []time.Duration, cpu float64, err error) {
	n := int(float64(lc.Rate) * lc.Duration.Seconds())
	cons, err := newConsumer(t.addrs, topic)
	if err != nil {
		return nil, nil, 0, err
	}
	defer cons.Close()
	hook := &requestHook{}
	prod, err := kgo.NewClient(kgo.SeedBrokers(t.addrs...), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DisableIdempotentWrite(),
		kgo.ProducerLinger(0), kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.DefaultProduceTopic(topic), kgo.WithHooks(hook))
	if err != nil {
		return nil, nil, 0, err
	}
	defer prod.Close()
	// One record first, unmeasured, so that connections and metadata are
	// in place before the clock starts; the consumer reads it too.
	if err := prod.ProduceSync(ctx, &kgo.Record{Value: payload}).FirstErr(); err != nil {
		return nil, nil, 0, fmt.Errorf("warm-up produce: %w", err)
	}
	hook.reset()
	done := make(chan error, 1)
	go func() { _, _, err := readN(ctx, cons, n+1); done <- err }()
	t.window("begin")
	defer t.window("end")
	cpu0, _ := t.cpuTime()
	wall0 := time.Now()
	lat, err = sendAtRate(ctx, prod, n, lc.Rate, payload)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := <-done; err != nil {
		return nil, nil, 0, fmt.Errorf("consume: %w", err)
	}
	cpu1, _ := t.cpuTime()
	slices.Sort(lat)
	answers = hook.take()
	slices.Sort(answers)
	return lat, answers, (cpu1 - cpu0).Seconds() / time.Since(wall0).Seconds(), nil
}

// sendAtRate produces n records on a fixed schedule of rate a second and
// waits for every acknowledgement. A sender that falls behind sends what
// is due at once rather than skipping it.
func sendAtRate(ctx context.Context, cl *kgo.Client, n, rate int, payload []byte) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	wg.Add(n)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		sent := time.Now()
		cl.Produce(ctx, &kgo.Record{Value: payload}, func(_ *kgo.Record, err error) {
			lat[i] = time.Since(sent)
			if err != nil {
				mu.Lock()
				firstErr = cmpErr(firstErr, err)
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	return lat, firstErr
}

// Err joins every failed run's error.
func (r *LatencyReport) Err() error {
	var all []error
	for _, k := range r.Kinds {
		all = append(all, r.Results[k].Errs...)
	}
	return errors.Join(all...)
}

// WriteMarkdown writes the info line, the table, and the target
// checked: Sluice's p99 against the null broker's plus twice the disk's.
func (r *LatencyReport) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "%s\n\nFixed load: %s records/s × %s, %d partition(s), no linger, acks=all, a consumer reading; %s per run.\n\n",
		r.Info, fmtCount(c.Rate), sizeName(c.Size), c.Partitions, c.Duration)
	b.WriteString("| broker | produce p50 | p99 | p99.9 | requests answered p99 | p99.9 | broker CPU (cores) |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, k := range r.Kinds {
		s := r.Results[k]
		if s.Runs == 0 {
			fmt.Fprintf(&b, "| %s | ERR | ERR | ERR | ERR | ERR | ERR |\n", k.Label())
			continue
		}
		cpu := "n/a"
		if s.CPU > 0 {
			cpu = fmt.Sprintf("%.3f", s.CPU)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", k.Label(), fmtDur(s.P50), fmtDur(s.P99), fmtDur(s.P999), fmtDur(s.AnswerP99), fmtDur(s.AnswerP999), cpu)
	}
	d := r.Disk
	fmt.Fprintf(&b, "| disk: 4 KiB append + fdatasync | %s | %s | %s | | | |\n", fmtDur(d.P50), fmtDur(d.P99), fmtDur(d.P999))
	sl, null := r.Results[KindSluice], r.Results[KindNull]
	if sl.Runs > 0 && null.Runs > 0 {
		bound := null.P99 + 2*d.P99
		verdict := "met"
		if sl.P99 > bound {
			verdict = "not met"
		}
		fmt.Fprintf(&b, "\nTarget: Sluice p99 %s ≤ null p99 + 2 × disk p99 = %s: %s.\n", fmtDur(sl.P99), fmtDur(bound), verdict)
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(&b, "\nErrors:\n\n```\n%v\n```\n", err)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
