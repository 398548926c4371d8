package main

import (
	"testing"

	"sluice/examples/internal/extest"
)

func TestAtLeastOnceGo(t *testing.T) {
	testAtLeastOnce(t, extest.GoProgram(t, "./examples/at-least-once"))
}

func TestAtLeastOncePython(t *testing.T) {
	testAtLeastOnce(t, extest.PythonProgram(t, "at_least_once.py"))
}

// testAtLeastOnce runs the consumer over 600 records in 3 partitions,
// SIGKILLs it in the middle of a poll (some of the poll processed, none of
// it committed), and starts it again with the same group and instance id
// until the group has committed the end of the topic. Every record is
// processed; the repeats are exactly the records the first run processed
// past the offsets it got committed, and they are counted.
func testAtLeastOnce(t *testing.T, cmd []string) {
	const n, partitions = 600, 3
	b := extest.Broker(t)
	topic := extest.TopicName(t, "in")
	group := topic + "-group"
	extest.CreateTopic(t, b.Addr(), topic, partitions)
	values := extest.Fill(t, b.Addr(), topic, n, partitions)
	ends := extest.EndOffsets(t, b.Addr(), topic)
	args := []string{"--brokers", b.Addr(), "--topic", topic, "--group", group, "--instance", "worker-1"}

	run1 := extest.Start(t, "run 1", cmd, append(args, "--work-ms", "5")...)
	extest.KillMidPoll(t, run1, 150, 10)
	committed1 := extest.Committed(t, b.Addr(), group, topic)
	run2 := extest.Start(t, "run 2", cmd, args...)
	extest.RunToEnd(t, run2, committed1, ends)

	done1 := extest.ProcessedBy(t, run1, values)
	done2 := extest.ProcessedBy(t, run2, values)
	repeats := 0
	for pl := range values {
		behind := pl.Offset < committed1[pl.Partition]
		switch {
		case behind && !done1[pl]:
			t.Errorf("%v is below run 1's committed offsets %v but run 1 never processed it: a commit ran ahead of processing", pl, committed1)
		case behind && done2[pl]:
			t.Errorf("%v is below run 1's committed offsets %v, yet run 2 processed it", pl, committed1)
		case !behind && !done2[pl]:
			t.Errorf("%v is at or past run 1's committed offsets %v, yet run 2 never processed it: lost", pl, committed1)
		case !behind && done1[pl]:
			repeats++ // processed by run 1, not committed before the kill
		}
	}
	if repeats == 0 {
		t.Errorf("no record processed twice: the kill did not land between processing and commit")
	}
	if got := extest.Committed(t, b.Addr(), group, topic); got.String() != ends.String() {
		t.Errorf("the group committed %v, want the end offsets %v", got, ends)
	}
	t.Logf("run 1 processed %d and got %v committed before SIGKILL; run 2 processed %d; %d records processed, %d of them twice",
		len(done1), committed1, len(done2), len(values), repeats)
}
