package producerstate

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"sluice/internal/scripttest"
)

// The scenario scripts in testdata/*.txt hold one command a line, each followed
// by the lines it prints, prefixed "-> ". The runner executes the commands and
// regenerates those lines; the test fails where they differ from the file, and
// -update rewrites the files instead. Blank lines and "#" comments are kept.
//
// Commands (key=value arguments; a bare "txn" sets Transactional):
//
//	new [expiration=MS]          start over with an empty State
//	append pid= epoch= seq= count= offset= ts= [txn] [v=]
//	                             Check, then Apply at offset..offset+count-1 if
//	                             accepted; prints ok/duplicate offsets or the error
//	check  (as append)           Check only
//	apply  (as append)           Apply only, as replay does; prints nothing
//	expire now=MS                prints the expired ids
//	producers                    prints Producers()
//	state                        prints every producer with its batches
//	snapshot offset=N            takes a snapshot; prints its size
//	restore                      replaces the state with Restore(last snapshot),
//	                             printing MISMATCH if it differs from the saved one
//	marker pid= epoch= offset= commit|abort [coord=] [ts=]
//	                             CheckMarker, then ApplyMarker; prints the
//	                             transaction it ended
//	unstable                     prints FirstUnstableOffset
func TestScripts(t *testing.T) {
	scripttest.RunDir(t, "testdata", func(t *testing.T) scripttest.Runner {
		r := &runner{t: t, state: New(Config{})}
		return r.run
	})
}

type runner struct {
	t     *testing.T
	state *State
	cfg   Config
	// saved is the last snapshot and the state it was taken of, in dump form.
	saved     []byte
	savedDump []string
}

func (r *runner) run(pos, line string) []string {
	fields := strings.Fields(line)
	args := parseArgs(r.t, pos, fields[1:])
	switch fields[0] {
	case "new":
		r.cfg = Config{ExpirationMs: args.int("expiration", 0)}
		r.state = New(r.cfg)
		return nil
	case "append":
		return r.append(args, true, true)
	case "check":
		return r.append(args, true, false)
	case "apply":
		return r.append(args, false, true)
	case "expire":
		return []string{"expired " + joinIDs(r.state.Expire(args.int("now", 0)))}
	case "producers":
		return describeProducers(r.state)
	case "state":
		return dump(r.state)
	case "snapshot":
		r.saved = r.state.Snapshot(args.int("offset", 0))
		r.savedDump = dump(r.state)
		return []string{fmt.Sprintf("snapshot bytes=%d", len(r.saved))}
	case "restore":
		return r.restore()
	case "marker":
		return r.marker(args)
	case "unstable":
		if off, ok := r.state.FirstUnstableOffset(); ok {
			return []string{fmt.Sprintf("first unstable offset=%d", off)}
		}
		return []string{"none open"}
	}
	r.t.Fatalf("%s: unknown command %q", pos, fields[0])
	return nil
}

func (r *runner) append(args args, check, apply bool) []string {
	b := args.batch()
	if check {
		v := r.state.Check(b)
		if v.Code != 0 {
			return []string{kerr.ErrorForCode(v.Code).(*kerr.Error).Message}
		}
		if v.Duplicate {
			return []string{fmt.Sprintf("duplicate offsets=%d..%d", v.FirstOffset, v.LastOffset)}
		}
	}
	if !apply {
		return []string{"ok"}
	}
	r.state.Apply(b)
	if !check {
		return nil
	}
	return []string{fmt.Sprintf("ok offsets=%d..%d", b.FirstOffset, b.LastOffset)}
}

func (r *runner) marker(a args) []string {
	m := Marker{ProducerID: a.required("pid"), Epoch: int16(a.int("epoch", 0)), Offset: a.required("offset"),
		Commit: a.vals["commit"] == "true", CoordinatorEpoch: int32(a.int("coord", 0)), Timestamp: a.int("ts", 0)}
	if a.vals["commit"] == a.vals["abort"] {
		a.t.Fatalf("%s: marker needs commit or abort", a.pos)
	}
	if code := r.state.CheckMarker(m); code != 0 {
		return []string{kerr.ErrorForCode(code).(*kerr.Error).Message}
	}
	c, ok := r.state.ApplyMarker(m)
	if !ok {
		return []string{"ok, no open transaction"}
	}
	what := "committed"
	if c.Aborted {
		what = "aborted"
	}
	return []string{fmt.Sprintf("ok %s pid=%d offsets=%d..%d", what, c.ProducerID, c.FirstOffset, c.LastOffset)}
}

func (r *runner) restore() []string {
	s, next, err := Restore(r.saved, r.cfg)
	if err != nil {
		return []string{"error " + err.Error()}
	}
	out := []string{fmt.Sprintf("restored offset=%d producers=%d", next, s.Len())}
	if got := dump(s); strings.Join(got, "\n") != strings.Join(r.savedDump, "\n") {
		out = append(out, fmt.Sprintf("MISMATCH restored %q, saved %q", got, r.savedDump))
	}
	if !bytes.Equal(s.Snapshot(next), r.saved) {
		out = append(out, "MISMATCH re-encoding differs")
	}
	r.state = s
	return out
}

func describeProducers(s *State) []string {
	ps := s.Producers()
	if len(ps) == 0 {
		return []string{"none"}
	}
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("pid=%d epoch=%d lastseq=%d lastts=%d coord=%d txnstart=%d",
			p.ProducerID, p.Epoch, p.LastSequence, p.LastTimestamp, p.CoordinatorEpoch, p.CurrentTxnStartOffset))
	}
	return out
}

// dump renders the whole state, batches included, in id order.
func dump(s *State) []string {
	if s.Len() == 0 {
		return []string{"empty"}
	}
	var out []string
	for _, id := range s.sortedIDs() {
		e := s.producers[id]
		var bs []string
		for _, m := range e.batches {
			b := fmt.Sprintf("seq=%d..%d@%d..%d/ts=%d", m.FirstSeq, m.LastSeq, m.FirstOffset, m.LastOffset, m.Timestamp)
			if m.Transactional {
				b += "/txn"
			}
			bs = append(bs, b)
		}
		line := fmt.Sprintf("pid=%d epoch=%d lastts=%d [%s]", id, e.epoch, e.lastTimestamp, strings.Join(bs, " "))
		if e.txnFirst != noOffset {
			line += fmt.Sprintf(" txn@%d", e.txnFirst)
		}
		if e.coordinatorEpoch != -1 {
			line += fmt.Sprintf(" coord=%d", e.coordinatorEpoch)
		}
		out = append(out, line)
	}
	return out
}

func joinIDs(ids []int64) string {
	if len(ids) == 0 {
		return "none"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, " ")
}

type args struct {
	t    *testing.T
	pos  string
	vals map[string]string
}

func parseArgs(t *testing.T, pos string, fields []string) args {
	a := args{t: t, pos: pos, vals: map[string]string{}}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			v = "true"
		}
		a.vals[k] = v
	}
	return a
}

func (a args) int(key string, def int64) int64 {
	v, ok := a.vals[key]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		a.t.Fatalf("%s: %s=%q: %v", a.pos, key, v, err)
	}
	return n
}

func (a args) required(key string) int64 {
	if _, ok := a.vals[key]; !ok {
		a.t.Fatalf("%s: missing %s=", a.pos, key)
	}
	return a.int(key, 0)
}

func (a args) batch() Batch {
	known := map[string]bool{"pid": true, "epoch": true, "seq": true, "count": true, "offset": true, "ts": true, "txn": true, "v": true}
	for k := range a.vals {
		if !known[k] {
			a.t.Fatalf("%s: unknown argument %q", a.pos, k)
		}
	}
	count := a.int("count", 1)
	offset := a.int("offset", 0)
	return Batch{
		ProducerID:    a.required("pid"),
		Epoch:         int16(a.int("epoch", 0)),
		BaseSequence:  int32(a.required("seq")),
		RecordCount:   int32(count),
		FirstOffset:   offset,
		LastOffset:    offset + count - 1,
		MaxTimestamp:  a.int("ts", 0),
		Transactional: a.vals["txn"] == "true",
	}
}
