package bench

import (
	"math"
	"slices"
	"time"
)

// runResult is one produce+consume pass against one target.
type runResult struct {
	produced, consumed int
	produceRate        float64 // records/s
	mbps               float64 // value bytes, 10^6 bytes/s
	p50, p99           time.Duration
	consumeRate        float64       // records/s; while producing, unless --consume-after
	aloneRate          float64       // records/s of a consumer reading the whole topic alone
	cpuPerRecord       time.Duration // the broker's CPU per record produced and consumed; 0 unmeasured
	lag                time.Duration // last record consumed after the last acknowledged
	recordsPerRequest  float64       // records over produce requests
	answerP50          time.Duration // median produce request answer time (produceResult.answers)
	err                error
}

// measure turns raw timings into rates. Only value bytes count toward MB/s:
// keys are nil and framing overhead differs between brokers' batches.
func measure(pr produceResult, cr consumeResult, size int) runResult {
	r := runResult{produced: pr.records, consumed: cr.records}
	if s := pr.elapsed.Seconds(); s > 0 {
		r.produceRate = float64(pr.records) / s
		r.mbps = float64(pr.records) * float64(size) / 1e6 / s
	}
	if s := cr.elapsed.Seconds(); s > 0 {
		r.consumeRate = float64(cr.records) / s
	}
	slices.Sort(pr.latencies)
	r.p50 = percentile(pr.latencies, 0.50)
	r.p99 = percentile(pr.latencies, 0.99)
	if len(pr.answers) > 0 {
		r.recordsPerRequest = float64(pr.records) / float64(len(pr.answers))
		slices.Sort(pr.answers)
		r.answerP50 = percentile(pr.answers, 0.50)
	}
	return r
}

// percentile is the nearest-rank percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Summary is one target's medians over a cell's successful runs. Each
// metric's median is taken on its own, so p99 and rec/s may come from
// different runs; with three runs that is the usual reading of "median".
type Summary struct {
	Runs               int // successful runs behind the medians
	Produced, Consumed int // totals over all runs, for the count check
	ProduceRate, MBps  float64
	P50, P99           time.Duration
	ConsumeRate        float64
	AloneRate          float64       // consume alone
	CPUPerRecord       time.Duration // 0: not measured
	Lag                time.Duration
	// RecordsPerRequest and AnswerP50: produce requests as the client saw
	// them (runResult); 0 when not measured.
	RecordsPerRequest float64
	AnswerP50         time.Duration
	Errs              []error
}

func summarize(runs []runResult) Summary {
	var s Summary
	var prod, mb, p50, p99, cons, alone, cpu, lag, perReq, answer []float64
	for _, r := range runs {
		s.Produced += r.produced
		s.Consumed += r.consumed
		if r.err != nil {
			s.Errs = append(s.Errs, r.err)
			continue
		}
		s.Runs++
		prod, mb, cons = append(prod, r.produceRate), append(mb, r.mbps), append(cons, r.consumeRate)
		p50, p99 = append(p50, float64(r.p50)), append(p99, float64(r.p99))
		alone, lag = append(alone, r.aloneRate), append(lag, float64(r.lag))
		if r.cpuPerRecord > 0 {
			cpu = append(cpu, float64(r.cpuPerRecord))
		}
		if r.recordsPerRequest > 0 {
			perReq, answer = append(perReq, r.recordsPerRequest), append(answer, float64(r.answerP50))
		}
	}
	s.RecordsPerRequest, s.AnswerP50 = median(perReq), time.Duration(median(answer))
	s.AloneRate, s.CPUPerRecord, s.Lag = median(alone), time.Duration(median(cpu)), time.Duration(median(lag))
	s.ProduceRate, s.MBps, s.ConsumeRate = median(prod), median(mb), median(cons)
	s.P50, s.P99 = time.Duration(median(p50)), time.Duration(median(p99))
	return s
}

// median of xs (the mean of the middle two for an even count); 0 if empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}
