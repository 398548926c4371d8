package txn

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"sluice/internal/scripttest"
)

// The scenario scripts in testdata/*.txt hold one command a line, each
// followed by the lines it prints, prefixed "-> ". The runner executes the
// commands and regenerates those lines; the test fails where they differ,
// and -update rewrites the files instead. Blank lines and "#" comments are
// kept.
//
// Commands (key=value arguments; bare words are flags):
//
//	new [max-timeout=MS] [expiration=MS]   start over
//	init id= timeout= now= [pid= epoch=] [hold]
//	add id= pid= epoch= parts=t-0,t-1 now= [hold]
//	verify id= pid= epoch= parts=
//	verify-each id= pid= epoch= parts=     one answer per partition
//	end id= pid= epoch= commit|abort now= [v2] [hold]
//	markers id= now= [hold]                MarkersWritten
//	tick now= [hold]                       timeouts and expiry
//	durable                                every held write becomes durable (Applied)
//	fail id=                               the held write of id failed
//	load id= pid= epoch= state= timeout= [parts=] [start=] [update=] [next=] [tv=]
//	                                       installs a state as read from the log
//	reconcile parts=t-0 pid= epoch= now=   Reconcile: a partition's open transaction
//	                                       found at start
//	restart                                every id's state through its record into a
//	                                       new coordinator; prints Recover()
//	state                                  every id
//	deadline                               NextDeadline
//
// Without hold, a command's write is made durable at once.
func TestScripts(t *testing.T) {
	scripttest.RunDir(t, "testdata", func(t *testing.T) scripttest.Runner {
		return newRunner(t, Config{}).run
	})
}

type counter struct{ next int64 }

func (c *counter) NextProducerID() (int64, error) { c.next++; return c.next, nil }

type runner struct {
	t    *testing.T
	cfg  Config
	ids  *counter
	c    *Coordinator
	held []Txn
}

func newRunner(t *testing.T, cfg Config) *runner {
	ids := &counter{next: 1000}
	return &runner{t: t, cfg: cfg, ids: ids, c: New(cfg, ids)}
}

type args struct {
	kv    map[string]string
	flags map[string]bool
	where string
	t     *testing.T
}

func (a args) int(k string) int64 {
	v, ok := a.kv[k]
	if !ok {
		a.t.Fatalf("%s: missing %s=", a.where, k)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		a.t.Fatalf("%s: %s=%q: %v", a.where, k, v, err)
	}
	return n
}

func (a args) intOr(k string, def int64) int64 {
	if _, ok := a.kv[k]; !ok {
		return def
	}
	return a.int(k)
}

func (a args) parts() []TopicPartition {
	var out []TopicPartition
	for _, p := range strings.Split(a.kv["parts"], ",") {
		if p == "" {
			continue
		}
		dash := strings.LastIndexByte(p, '-')
		n, err := strconv.Atoi(p[dash+1:])
		if dash < 0 || err != nil {
			a.t.Fatalf("%s: partition %q", a.where, p)
		}
		out = append(out, TopicPartition{p[:dash], int32(n)})
	}
	return out
}

func parseArgs(t *testing.T, where string, fields []string) args {
	a := args{kv: map[string]string{}, flags: map[string]bool{}, where: where, t: t}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			a.kv[k] = v
		} else {
			a.flags[f] = true
		}
	}
	return a
}

func (r *runner) run(where, line string) []string {
	fields := strings.Fields(line)
	a := parseArgs(r.t, where, fields[1:])
	switch fields[0] {
	case "new":
		r.cfg = Config{MaxTimeoutMs: int32(a.intOr("max-timeout", 0)), IDExpirationMs: a.intOr("expiration", 0)}
		*r = *newRunner(r.t, r.cfg)
		return nil
	case "init":
		return r.outcome(a, r.c.InitProducerID(a.int("now"), InitRequest{TxnID: a.kv["id"], TimeoutMs: int32(a.int("timeout")),
			ProducerID: a.intOr("pid", -1), Epoch: int16(a.intOr("epoch", -1))}))
	case "add":
		return r.outcome(a, r.c.AddPartitions(a.int("now"), a.kv["id"], a.int("pid"), int16(a.int("epoch")), a.parts()))
	case "verify":
		if err := r.c.Verify(a.kv["id"], a.int("pid"), int16(a.int("epoch")), a.parts()); err != nil {
			return []string{err.Message}
		}
		return []string{"ok"}
	case "verify-each":
		var out []string
		for i, err := range r.c.VerifyEach(a.kv["id"], a.int("pid"), int16(a.int("epoch")), a.parts()) {
			answer := "ok"
			if err != nil {
				answer = err.Message
			}
			out = append(out, a.parts()[i].String()+" "+answer)
		}
		return []string{strings.Join(out, ", ")}
	case "end":
		return r.outcome(a, r.c.EndTxn(a.int("now"), EndRequest{TxnID: a.kv["id"], ProducerID: a.int("pid"),
			Epoch: int16(a.int("epoch")), Commit: a.flags["commit"], V2: a.flags["v2"]}))
	case "markers":
		return r.outcome(a, r.c.MarkersWritten(a.int("now"), a.kv["id"]))
	case "tick":
		var out []string
		for _, o := range r.c.Tick(a.int("now")) {
			out = append(out, r.outcome(a, o)...)
		}
		return out
	case "durable":
		for _, t := range r.held {
			r.c.Applied(t)
		}
		r.held = nil
		return nil
	case "fail":
		r.c.Failed(a.kv["id"])
		return nil
	case "load":
		r.c.Load(Txn{ID: a.kv["id"], ProducerID: a.int("pid"), Epoch: int16(a.int("epoch")), TimeoutMs: int32(a.int("timeout")),
			State: stateByName(r.t, where, a.kv["state"]), Partitions: a.parts(), StartMs: a.intOr("start", -1), UpdateMs: a.intOr("update", 0),
			PrevProducerID: a.intOr("prev", -1), NextProducerID: a.intOr("next", -1), ClientVersion: int16(a.intOr("tv", 0))})
		return nil
	case "reconcile":
		id, o := r.c.Reconcile(a.int("now"), a.parts()[0], a.int("pid"), int16(a.int("epoch")))
		return append([]string{"id=" + id}, r.outcome(a, o)...)
	case "restart":
		return r.restart()
	case "state":
		var out []string
		for _, t := range r.c.All() {
			out = append(out, t.String())
		}
		return out
	case "deadline":
		return []string{strconv.FormatInt(r.c.NextDeadline(), 10)}
	}
	r.t.Fatalf("%s: unknown command %q", where, fields[0])
	return nil
}

// outcome prints an outcome and makes its write durable unless held.
func (r *runner) outcome(a args, o Outcome) []string {
	var out []string
	if o.Err != nil {
		out = append(out, o.Err.Message)
	} else {
		out = append(out, fmt.Sprintf("ok pid=%d epoch=%d", o.ProducerID, o.Epoch))
	}
	if o.Write != nil {
		out = append(out, "write "+o.Write.String())
		if a.flags["hold"] {
			r.held = append(r.held, *o.Write)
		} else {
			r.c.Applied(*o.Write)
		}
	}
	if m := o.Markers; m != nil {
		out = append(out, m.String())
	}
	return out
}

func (m *Markers) String() string {
	what := "abort"
	if m.Commit {
		what = "commit"
	}
	parts := make([]string, len(m.Partitions))
	for i, tp := range m.Partitions {
		parts[i] = tp.String()
	}
	return fmt.Sprintf("markers %s %s pid=%d epoch=%d [%s]", m.TxnID, what, m.ProducerID, m.Epoch, strings.Join(parts, ","))
}

// restart sends every durable state through its record into a new
// coordinator, as a broker restart replays the transaction log.
func (r *runner) restart() []string {
	next := New(r.cfg, r.ids)
	for _, t := range r.c.All() {
		k, v := EncodeRecord(t)
		got, err := DecodeRecord(k, v)
		if err != nil {
			r.t.Fatalf("decode %s: %v", t, err)
		}
		next.Load(got)
	}
	r.c, r.held = next, nil
	var out []string
	for _, m := range r.c.Recover() {
		out = append(out, "recover "+m.String())
	}
	return out
}

func stateByName(t *testing.T, where, name string) State {
	for i, n := range stateNames {
		if n == name {
			return State(i)
		}
	}
	t.Fatalf("%s: unknown state %q", where, name)
	return 0
}
