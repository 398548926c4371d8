package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"sluice/internal/verify/check"
	"sluice/internal/verify/history"
	"sluice/internal/verify/workload"
)

// setup is the client settings a guarantee's workload uses, after the
// seeds' articles; eos says consumers are transactional workers.
type setup struct {
	producer workload.ProducerSetting
	consumer workload.ConsumerSetting
	eos      bool
}

var setups = map[check.Guarantee]setup{
	check.AtMostOnce:  {producer: workload.AcksNone, consumer: workload.CommitBefore},
	check.AtLeastOnce: {producer: workload.AcksAll, consumer: workload.CommitAfter},
	check.Idempotent:  {producer: workload.Idempotent, consumer: workload.CommitAfter},
	check.ExactlyOnce: {producer: workload.Idempotent, eos: true},
}

// slot is one place in a workload that a process fills: when the process
// is killed, a replacement with a new process id takes the slot.
type slot struct {
	cfg workload.Config // Process and History are set per process

	mu   sync.Mutex
	proc *child
	id   int // the current process's id
}

// current is the slot's process and its id.
func (s *slot) current() (*child, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc, s.id
}

// workloadRun is one guarantee's workload: its topics, groups and
// processes, its directory of histories, and its fault history (the
// runner's own ops, process 0).
type workloadRun struct {
	g      check.Guarantee
	setup  setup
	dir    string
	prefix string // of its topics' and groups' names
	in     string // the topic producers write
	out    string // exactly-once: the topic workers write
	faults *history.Writer
	closeF func() error

	mu    sync.Mutex
	slots []*slot
	next  int // slot numbers, for transactional ids
}

// consumerGroup is a group whose committed offsets must reach the end of
// a topic before the consumers stop.
type consumerGroup struct{ group, topic string }

func newWorkload(g check.Guarantee, s setup, dir, prefix string) (*workloadRun, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "p0-faults.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	w := &workloadRun{g: g, setup: s, dir: dir, prefix: prefix, in: prefix + "-in", faults: history.NewWriter(f), closeF: f.Close}
	if s.eos {
		w.out = prefix + "-out"
	}
	return w, nil
}

func (w *workloadRun) topics() []string {
	if w.out != "" {
		return []string{w.in, w.out}
	}
	return []string{w.in}
}

// groups are the consumer groups of the workload's application.
func (w *workloadRun) groups() []consumerGroup {
	if w.setup.eos {
		return []consumerGroup{{w.prefix + "-eos", w.in}}
	}
	return []consumerGroup{{w.prefix + "-sub", w.in}, {w.prefix + "-asg", w.in}}
}

// roster is the workload's processes at the start: two producers, two
// members of the consuming group (transactional workers for
// exactly-once), and either a consumer with a manual assignment or, for
// exactly-once, a read_committed observer of the output.
func (w *workloadRun) roster(base workload.Config) []workload.Config {
	producer := base
	producer.Role, producer.Topic, producer.Producer = workload.Producer, w.in, w.setup.producer
	member, third := base, base
	if w.setup.eos {
		member.Role, member.Topic, member.Output, member.Group, member.AbortEvery = workload.EOS, w.in, w.out, w.groups()[0].group, 8
		third.Role, third.Topic, third.ReadCommitted = workload.Observer, w.out, true
	} else {
		member.Role, member.Topic, member.Group, member.Consumer = workload.Consumer, w.in, w.groups()[0].group, w.setup.consumer
		third.Role, third.Topic, third.Group, third.Consumer = workload.Assigned, w.in, w.groups()[1].group, w.setup.consumer
	}
	return []workload.Config{member, member, third, producer, producer}
}

// addSlot takes a new slot for cfg; a transactional worker's slot gets
// its own transactional id, which its replacements keep.
func (w *workloadRun) addSlot(cfg workload.Config) *slot {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.next++
	if cfg.Role == workload.EOS {
		cfg.TxnID = fmt.Sprintf("%s-tx%d", w.prefix, w.next)
	}
	s := &slot{cfg: cfg}
	w.slots = append(w.slots, s)
	return s
}

func (w *workloadRun) removeSlot(s *slot) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.slots = slices.DeleteFunc(w.slots, func(x *slot) bool { return x == s })
}

// slotsOf lists the slots whose role is among roles.
func (w *workloadRun) slotsOf(roles ...workload.Role) []*slot {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*slot
	for _, s := range w.slots {
		if slices.Contains(roles, s.cfg.Role) {
			out = append(out, s)
		}
	}
	return out
}

// logFault records a fault in the workload's history.
func (w *workloadRun) logFault(op history.Op) error { return w.faults.Append(op) }
