package check

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"sluice/internal/verify/history"
)

// sim generates histories of a correct broker (one topic, a few
// partitions, a producer, a consumer group with rebalances, a final
// drain), with the quirks a correct system still shows: lost
// acknowledgements answered by idempotent retries, consumers moved
// between partitions, empty polls. The checker must find nothing in them.
type sim struct {
	rng    *rand.Rand
	ops    []history.Op
	logs   [3][]string
	commit [3]int64 // the group's committed offsets
	owner  [3]int   // the consumer process reading each partition
	pos    [3]int64 // its position
	ms     int
	// storeTwice makes the producer's retries store a record again, as a
	// producer without idempotence does; twice lists what it stored twice.
	storeTwice bool
	twice      []string
}

func (s *sim) add(op history.Op) {
	s.ms++
	op.Time = t0.Add(time.Duration(s.ms) * time.Millisecond)
	s.ops = append(s.ops, op)
}

func (s *sim) send(i int) {
	p, v := s.rng.IntN(3), fmt.Sprintf("v%d", i)
	rec := func(off int64) *history.Record {
		return &history.Record{Topic: "t", Partition: int32(p), Offset: off, Value: v}
	}
	s.logs[p] = append(s.logs[p], v)
	off := int64(len(s.logs[p]) - 1)
	if s.rng.IntN(5) == 0 { // the acknowledgement is lost; the client retries
		s.add(history.Op{Process: 1, Kind: history.Send, Outcome: history.Info, Record: rec(history.NoOffset)})
		if s.storeTwice {
			s.logs[p] = append(s.logs[p], v)
			off = int64(len(s.logs[p]) - 1)
			s.twice = append(s.twice, v)
		}
	}
	s.add(history.Op{Process: 1, Kind: history.Send, Outcome: history.OK, Record: rec(off)})
}

// poll reads up to three records of one partition for its owner, then
// commits after processing (at-least-once done right).
func (s *sim) poll() {
	p := s.rng.IntN(3)
	var recs []history.Record
	for n := 0; n < 3 && s.pos[p] < int64(len(s.logs[p])); n++ {
		recs = append(recs, history.Record{Topic: "t", Partition: int32(p), Offset: s.pos[p], Value: s.logs[p][s.pos[p]]})
		s.pos[p]++
	}
	s.add(history.Op{Process: s.owner[p], Kind: history.Poll, Isolation: history.ReadUncommitted, Group: "g", Records: recs})
	if len(recs) > 0 {
		s.commit[p] = s.pos[p]
		s.add(history.Op{Process: s.owner[p], Kind: history.Commit, Outcome: history.OK, Group: "g",
			Offsets: []history.Position{{Topic: "t", Partition: int32(p), Offset: s.commit[p]}}})
	}
}

// rebalance moves a partition to another consumer, which starts at the
// committed offset.
func (s *sim) rebalance() {
	p := s.rng.IntN(3)
	tp := []history.TopicPartition{{Topic: "t", Partition: int32(p)}}
	s.add(history.Op{Process: s.owner[p], Kind: history.Revoke, Group: "g", Partitions: tp})
	s.owner[p] = 10 + s.rng.IntN(3)
	s.pos[p] = s.commit[p]
	s.add(history.Op{Process: s.owner[p], Kind: history.Assign, Group: "g", Partitions: tp})
}

func (s *sim) drain() {
	for p := range s.logs {
		for off, v := range s.logs[p] {
			s.add(history.Op{Process: 99, Kind: history.Poll, Isolation: history.ReadUncommitted,
				Records: []history.Record{{Topic: "t", Partition: int32(p), Offset: int64(off), Value: v}}})
		}
	}
}

func simulate(seed uint64, storeTwice bool) *sim { return simulateSteps(seed, storeTwice, 300) }

func simulateSteps(seed uint64, storeTwice bool, steps int) *sim {
	s := &sim{rng: rand.New(rand.NewPCG(seed, 0)), owner: [3]int{10, 10, 11}, storeTwice: storeTwice}
	for i := range steps {
		switch s.rng.IntN(6) {
		case 0, 1, 2:
			s.send(i)
		case 3, 4:
			s.poll()
		default:
			s.rebalance()
		}
	}
	for range steps / 3 {
		s.poll()
	}
	s.drain()
	return s
}

func TestSimulatedCorrectBrokerHasNoFindings(t *testing.T) {
	for seed := range uint64(20) {
		r := Check(simulate(seed, false).ops)
		if len(r.Findings) != 0 {
			t.Fatalf("seed %d: %d findings, first: %s: %s", seed, len(r.Findings), r.Findings[0].Anomaly, r.Findings[0].Summary)
		}
		if r.Stats.SendsInfo == 0 || r.Stats.Polls == 0 {
			t.Fatalf("seed %d: the simulation exercised nothing: %+v", seed, r.Stats)
		}
	}
}

// Without idempotence every lost acknowledgement stores the record twice:
// one duplicate finding per record, naming its two offsets, and nothing
// else that at-least-once forbids.
func TestSimulatedRetriesWithoutIdempotence(t *testing.T) {
	for seed := range uint64(20) {
		s := simulate(seed, true)
		r := Check(s.ops)
		var dups []string
		for _, f := range r.Findings {
			if f.Anomaly == Duplicate {
				dups = append(dups, f.Values[0])
				if len(f.Offsets) != 2 || f.Offsets[1] != f.Offsets[0]+1 {
					t.Fatalf("seed %d: %s at offsets %v, want two adjacent", seed, f.Values[0], f.Offsets)
				}
			}
		}
		if len(dups) != len(s.twice) || len(dups) == 0 {
			t.Fatalf("seed %d: duplicates %v, stored twice %v", seed, dups, s.twice)
		}
		if v := Judge(r, AtLeastOnce); !v.Holds {
			t.Fatalf("seed %d: at-least-once violated by %v", seed, v.Violations)
		}
		if v := Judge(r, Idempotent); v.Holds {
			t.Fatalf("seed %d: idempotent holds despite duplicates", seed)
		}
	}
}

// The same history gives the same result, whatever order Go walks maps in.
func TestCheckIsDeterministic(t *testing.T) {
	ops := simulate(7, true).ops
	// Add findings of every sort the simulation does not make.
	ops = append(ops,
		history.Op{Process: 5, Kind: history.Send, Outcome: history.OK, Txn: "T1", Time: t0, Record: &history.Record{Topic: "u", Offset: 0, Value: "x"}},
		history.Op{Process: 5, Kind: history.TxnAbort, Outcome: history.OK, Txn: "T1", Time: t0},
		history.Op{Process: 6, Kind: history.Poll, Isolation: history.ReadCommitted, Time: t0, Records: []history.Record{{Topic: "u", Offset: 0, Value: "x"}, {Topic: "u", Offset: 0, Value: "y"}}},
	)
	first := Check(ops)
	for range 10 {
		if again := Check(ops); !reflect.DeepEqual(first, again) {
			t.Fatal("two checks of one history differ")
		}
	}
	if first.Count(G1a) != 1 || first.Count(InconsistentOffsets) != 1 {
		t.Fatalf("G1a %d, inconsistent-offsets %d; want 1 each", first.Count(G1a), first.Count(InconsistentOffsets))
	}
}

// A minute of a busy run is some hundreds of thousands of ops; the
// checker must stay linear-ish in them.
func BenchmarkCheck(b *testing.B) {
	ops := simulateSteps(1, true, 100_000).ops
	for b.Loop() {
		Check(ops)
	}
	b.ReportMetric(float64(len(ops)), "ops/history")
}
