package main

import (
	"fmt"
	"testing"

	"sluice/examples/internal/extest"
	"sluice/internal/brokertest"
)

func TestExactlyOnceGo(t *testing.T) {
	testExactlyOnce(t, extest.GoProgram(t, "./examples/exactly-once"), false)
}

func TestExactlyOncePython(t *testing.T) {
	testExactlyOnce(t, extest.PythonProgram(t, "exactly_once.py"), false)
}

func TestExactlyOnceGoBrokerCrash(t *testing.T) {
	testExactlyOnce(t, extest.GoProgram(t, "./examples/exactly-once"), true)
}

func TestExactlyOncePythonBrokerCrash(t *testing.T) {
	testExactlyOnce(t, extest.PythonProgram(t, "exactly_once.py"), true)
}

// testExactlyOnce runs the pipeline over 600 input records in 3
// partitions, SIGKILLs it in the middle of a transaction (some of the
// poll's output produced, nothing committed), and starts it again with the
// same transactional id, group and instance id until the group has
// committed the end of the input. Read committed, the output holds every
// input record exactly once, with its value, in the input's order per
// partition; the aborted records are in the log, seen only at
// read_uncommitted.
//
// With crashBroker, the broker runs as a process and is SIGKILLed too,
// right after the pipeline, while the transaction is open, and restarted
// on the same data and address: the transaction is still there to abort
// when run 2 starts, and the committed offsets and transactions are intact.
func testExactlyOnce(t *testing.T, cmd []string, crashBroker bool) {
	const n, partitions = 600, 3
	var addr string
	var proc *brokertest.Process
	if crashBroker {
		proc = extest.BrokerProcess(t)
		addr = proc.Addr
	} else {
		addr = extest.Broker(t).Addr()
	}
	in, out := extest.TopicName(t, "in"), extest.TopicName(t, "out")
	group := in + "-group"
	extest.CreateTopic(t, addr, in, partitions)
	extest.CreateTopic(t, addr, out, partitions)
	values := extest.Fill(t, addr, in, n, partitions)
	ends := extest.EndOffsets(t, addr, in)
	args := []string{"--brokers", addr, "--in", in, "--out", out, "--group", group,
		"--transactional-id", "pipeline-1", "--instance", "pipeline-1"}

	run1 := extest.Start(t, "run 1", cmd, append(args, "--work-ms", "5")...)
	extest.KillMidPoll(t, run1, 150, 10)
	if crashBroker {
		extest.CrashAndRestart(t, proc)
	}
	committed1 := extest.Committed(t, addr, group, in)
	run2 := extest.Start(t, "run 2", cmd, args...)
	extest.RunToEnd(t, run2, committed1, ends)

	if got := extest.Committed(t, addr, group, in); got.String() != ends.String() {
		t.Errorf("the group committed %v, want the end offsets %v", got, ends)
	}
	seen := map[extest.Place]int{}
	last := map[[2]int32]int64{} // per output and input partition, the last input offset
	for _, r := range extest.ReadAll(t, addr, out, true) {
		var src string
		for _, h := range r.Headers {
			if h.Key == "source" {
				src = string(h.Value)
			}
		}
		pl, ok := extest.ParsePlace(src)
		if !ok || values[pl] != string(r.Value) {
			t.Fatalf("output %d/%d: source %q value %q; the input holds %q there", r.Partition, r.Offset, src, r.Value, values[pl])
		}
		seen[pl]++
		k := [2]int32{r.Partition, pl.Partition}
		if o, ok := last[k]; ok && pl.Offset <= o {
			t.Errorf("output partition %d has input %v after input offset %d", r.Partition, pl, o)
		}
		last[k] = pl.Offset
	}
	var wrong []string
	for pl := range values {
		if seen[pl] != 1 {
			wrong = append(wrong, fmt.Sprintf("%v x%d", pl, seen[pl]))
		}
	}
	if len(wrong) > 0 || len(seen) != n {
		t.Fatalf("read committed, %d input records are not in the output exactly once: %v", len(wrong), wrong[:min(len(wrong), 10)])
	}
	raw := extest.ReadAll(t, addr, out, false)
	if len(raw) < n {
		t.Fatalf("read uncommitted, the output holds %d records, fewer than the %d committed", len(raw), n)
	}
	t.Logf("broker crashed too: %v; run 1 processed %d and got %v committed before SIGKILL; read committed, the output holds each of the %d input records once; read uncommitted, %d records (%d of an aborted transaction)",
		crashBroker, len(extest.ProcessedBy(t, run1, values)), committed1, n, len(raw), len(raw)-n)
}
