package main

import (
	"testing"

	"sluice/examples/internal/extest"
)

func TestAtMostOnceGo(t *testing.T) {
	testAtMostOnce(t, extest.GoProgram(t, "./examples/at-most-once"))
}

func TestAtMostOncePython(t *testing.T) {
	testAtMostOnce(t, extest.PythonProgram(t, "at_most_once.py"))
}

// testAtMostOnce runs the consumer over 600 records in 3 partitions,
// SIGKILLs it in the middle of a poll (the poll committed, part of it
// processed), and starts it again with the same group and instance id
// until the group has committed the end of the topic. No record is
// processed twice; the records never processed are exactly the rest of
// the poll the kill interrupted, and they are counted.
func testAtMostOnce(t *testing.T, cmd []string) {
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
	lost, twice := 0, 0
	for pl := range values {
		behind := pl.Offset < committed1[pl.Partition]
		if done1[pl] && done2[pl] {
			twice++
			t.Errorf("%v processed twice, by run 1 and by run 2", pl)
		}
		switch {
		case !behind && done1[pl]:
			t.Errorf("run 1 processed %v, which is past its committed offsets %v: processing ran ahead of the commit", pl, committed1)
		case behind && done2[pl]:
			t.Errorf("%v is below run 1's committed offsets %v, yet run 2 processed it", pl, committed1)
		case !behind && !done2[pl]:
			t.Errorf("%v is at or past run 1's committed offsets %v, yet run 2 never processed it", pl, committed1)
		case behind && !done1[pl]:
			lost++ // committed by run 1, which died before processing it
		}
	}
	// The lost records are the unprocessed rest of run 1's last poll:
	// at least the 10 that KillMidPoll leaves, at most a poll (100).
	if lost < 10 || lost > 100 {
		t.Errorf("%d records never processed; want the rest of the poll the kill interrupted (10 to 100)", lost)
	}
	if len(done1)+len(done2)+lost != n {
		t.Errorf("run 1 processed %d, run 2 %d, %d lost: %d, want %d", len(done1), len(done2), lost, len(done1)+len(done2)+lost, n)
	}
	if got := extest.Committed(t, b.Addr(), group, topic); got.String() != ends.String() {
		t.Errorf("the group committed %v, want the end offsets %v", got, ends)
	}
	t.Logf("run 1 processed %d and got %v committed before SIGKILL; run 2 processed %d; of %d records %d processed twice, %d never",
		len(done1), committed1, len(done2), len(values), twice, lost)
}
