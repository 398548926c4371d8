package extest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The examples print one line per event, in the same words in Go and in
// Python:
//
//	polled 100 records
//	processed 2/41 value=123        partition 2, offset 41
//	committed 0/34 1/33 2/35        the group's offsets: the next record to read per partition
//
// and each example adds lines of its own, documented in its test.

// Place is where a record is: partition and offset.
type Place struct {
	Partition int32
	Offset    int64
}

func (p Place) String() string { return fmt.Sprintf("%d/%d", p.Partition, p.Offset) }

// ParsePlace parses "partition/offset".
func ParsePlace(s string) (Place, bool) {
	ps, os, ok := strings.Cut(s, "/")
	if !ok {
		return Place{}, false
	}
	p, err1 := strconv.ParseInt(ps, 10, 32)
	o, err2 := strconv.ParseInt(os, 10, 64)
	if err1 != nil || err2 != nil {
		return Place{}, false
	}
	return Place{int32(p), o}, true
}

// Polled parses "polled N records".
func Polled(line string) (int, bool) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "polled" || (f[2] != "records" && f[2] != "record") {
		return 0, false
	}
	n, err := strconv.Atoi(f[1])
	return n, err == nil
}

// Processed parses "processed P/O value=V" and returns the place and V.
func Processed(line string) (Place, string, bool) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "processed" || !strings.HasPrefix(f[2], "value=") {
		return Place{}, "", false
	}
	pl, ok := ParsePlace(f[1])
	return pl, strings.TrimPrefix(f[2], "value="), ok
}

// CommittedLine parses "committed P/O P/O ..." (more words may follow a
// "--").
func CommittedLine(line string) (Offsets, bool) {
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "committed" {
		return nil, false
	}
	out := Offsets{}
	for _, w := range f[1:] {
		if w == "--" {
			break
		}
		pl, ok := ParsePlace(w)
		if !ok {
			return nil, false
		}
		out[pl.Partition] = pl.Offset
	}
	return out, len(out) > 0
}

// Handled reports whether line says a record was handled: "processed",
// or, in the idempotent consumers, "applied", "skipped" or "dropped".
func Handled(line string) bool {
	w, _, _ := strings.Cut(line, " ")
	return w == "processed" || w == "applied" || w == "skipped" || w == "dropped"
}

// KillMidPoll reads p's output until it has handled at least min records
// and is in the middle of a poll with at least left records still to
// process (the example spends some milliseconds on each), then SIGKILLs
// it. What p printed before it died is in p.Seen.
func KillMidPoll(t *testing.T, p *Program, min, left int) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	total, size, inPoll := 0, 0, 0
	for {
		l := p.Next(t, deadline)
		if n, ok := Polled(l); ok {
			size, inPoll = n, 0
			continue
		}
		if Handled(l) {
			total++
			inPoll++
			if total >= min && inPoll >= 1 && size-inPoll >= left {
				p.Kill()
				return
			}
		}
	}
}

// RunToEnd reads p's output until its "committed" lines, over the group's
// committed offsets when p started (from), have brought the group to ends
// in every partition; then it stops p with SIGTERM (the example finishes
// the poll in hand) and checks it exits 0.
func RunToEnd(t *testing.T, p *Program, from, ends Offsets) {
	t.Helper()
	deadline := time.After(90 * time.Second)
	at := Offsets{}
	for part, o := range from {
		at[part] = o
	}
	for !at.Reached(ends) {
		if c, ok := CommittedLine(p.Next(t, deadline)); ok {
			for part, o := range c {
				at[part] = max(at[part], o)
			}
		}
	}
	p.Stop(t, 30*time.Second)
}

// ProcessedBy returns the records a run processed, from its "processed"
// lines, checking that each names a record of the input (values, by
// place) with its value and that no record is processed twice in one run.
func ProcessedBy(t *testing.T, run *Program, values map[Place]string) map[Place]bool {
	t.Helper()
	done := map[Place]bool{}
	for _, l := range run.Seen {
		pl, v, ok := Processed(l)
		if !ok {
			continue
		}
		if want, in := values[pl]; !in || v != want {
			t.Fatalf("%s: %q: the input holds %q there", run.Name, l, want)
		}
		if done[pl] {
			t.Fatalf("%s processed %v twice", run.Name, pl)
		}
		done[pl] = true
	}
	return done
}
