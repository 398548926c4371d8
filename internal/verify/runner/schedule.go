package runner

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Event is one fault, at a time into the run.
type Event struct {
	At    time.Duration
	Fault Fault
	// Pick is the event's own random number: the injector draws from it
	// whatever the fault leaves open (which workload, which process, how
	// long), so that a seed fixes those choices too.
	Pick uint64
}

// Schedule plans a run's faults from its seed: one event per slot of
// length every, between a tenth of the run and 85% of it (clients settle
// first, and recover before the run stops). The faults come in rounds,
// each a shuffle of the list, so every fault is injected at least once
// however short the run. The same arguments give the same schedule.
func Schedule(seed uint64, duration, every time.Duration, faults []Fault) []Event {
	if len(faults) == 0 || every <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	start, end := duration/10, duration*85/100
	n := max(len(faults), int((end-start)/every))
	var kinds []Fault
	for len(kinds) < n {
		round := slices.Clone(faults)
		rng.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
		kinds = append(kinds, round...)
	}
	step := (end - start) / time.Duration(n)
	events := make([]Event, n)
	for i := range events {
		at := start + step*time.Duration(i)
		if step > 1 {
			at += time.Duration(rng.Int64N(int64(step / 2)))
		}
		events[i] = Event{At: at, Fault: kinds[i], Pick: rng.Uint64()}
	}
	return events
}
