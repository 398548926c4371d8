package runner

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"time"

	"sluice/internal/verify/history"
	"sluice/internal/verify/workload"
)

// crashWait is how long a consumer armed with a crash point has to reach
// it (it needs records in hand) before it is killed outright.
const crashWait = 5 * time.Second

// clientFault injects a fault into one client of w. logged reports that
// the client recorded the fault itself (a crash point).
func (r *run) clientFault(w *workloadRun, f Fault, pick *rand.Rand) (detail string, outcome history.Outcome, logged bool, err error) {
	consumers := w.slotsOf(workload.Consumer, workload.Assigned, workload.EOS)
	switch f {
	case ConsumerKill:
		return r.killSlot(w, consumers[pick.IntN(len(consumers))]), history.OK, false, nil
	case ProducerKill:
		producers := w.slotsOf(workload.Producer)
		return r.killSlot(w, producers[pick.IntN(len(producers))]), history.OK, false, nil
	case ConsumerKillBeforeCommit, ConsumerKillAfterCommit:
		sig := workload.SignalKillBeforeCommit
		if f == ConsumerKillAfterCommit {
			sig = workload.SignalKillAfterCommit
		}
		busy := r.busy(consumers)
		return r.crashSlot(w, busy[pick.IntN(len(busy))], sig)
	case Rebalance:
		return r.rebalance(w, pick), history.OK, false, nil
	}
	return "", "", false, fmt.Errorf("unknown fault %s", f)
}

// busy lists the slots whose process recorded a poll with records in the
// last second, which will soon hold records again; all of them if none
// did. A crash point fires only with records in hand, and a member that
// just joined may wait a session timeout for partitions.
func (r *run) busy(slots []*slot) []*slot {
	r.tail.refresh()
	since := time.Now().Add(-time.Second)
	var out []*slot
	for _, s := range slots {
		if _, id := s.current(); r.tail.polledSince(id, since) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return slots
	}
	return out
}

// killSlot kills the slot's process with SIGKILL and starts its
// replacement.
func (r *run) killSlot(w *workloadRun, s *slot) string {
	c, old := s.current()
	c.kill()
	return fmt.Sprintf("SIGKILL p%d (%s); %s", old, describe(s.cfg), r.replace(w, s, c))
}

// replace starts a new process in the slot of the dead process old.
func (r *run) replace(w *workloadRun, s *slot, old *child) string {
	if err := r.startSlot(w, s, old); err != nil {
		r.note("could not replace pid %d: %v", old.pid(), err)
		return "not replaced"
	}
	_, id := s.current()
	return fmt.Sprintf("replaced by p%d", id)
}

// crashSlot arms a crash point of the slot's process and waits for it to
// die there; one that holds no records in time is killed outright, and
// the fault is recorded as not having taken effect.
func (r *run) crashSlot(w *workloadRun, s *slot, sig syscall.Signal) (string, history.Outcome, bool, error) {
	c, old := s.current()
	c.ours.Store(true)
	if err := c.signal(sig); err != nil {
		return "", "", false, err
	}
	select {
	case <-c.exited:
		return fmt.Sprintf("p%d (%s) killed itself at the crash point; %s", old, describe(s.cfg), r.replace(w, s, c)), history.OK, true, nil
	case <-time.After(crashWait):
	}
	detail := r.killSlot(w, s)
	return fmt.Sprintf("p%d held no records within %v; %s", old, crashWait, detail), history.Info, false, nil
}

// rebalance adds a member to the workload's consuming group, or stops
// one cleanly (it leaves the group), keeping between one member and one
// per partition.
func (r *run) rebalance(w *workloadRun, pick *rand.Rand) string {
	members := w.slotsOf(workload.Consumer, workload.EOS)
	add := len(members) <= 1 || (int32(len(members)) < r.cfg.Partitions && pick.IntN(2) == 0)
	if add {
		s := w.addSlot(members[0].cfg)
		if err := r.startSlot(w, s, nil); err != nil {
			r.note("could not add a member: %v", err)
			return "no member added"
		}
		_, id := s.current()
		return fmt.Sprintf("p%d joined group %s (%d members)", id, s.cfg.Group, len(members)+1)
	}
	s := members[pick.IntN(len(members))]
	c, id := s.current()
	clean := c.stop(stopTimeout)
	w.removeSlot(s)
	how := "left cleanly"
	if !clean {
		how = "did not stop cleanly and was killed"
	}
	return fmt.Sprintf("p%d %s group %s (%d members)", id, how, s.cfg.Group, len(members)-1)
}

// describe names a process's part in its workload.
func describe(c workload.Config) string {
	switch c.Role {
	case workload.Producer:
		return fmt.Sprintf("producer, %s", c.Producer)
	case workload.EOS:
		return fmt.Sprintf("transactional worker of group %s", c.Group)
	case workload.Consumer:
		return fmt.Sprintf("member of group %s, %s", c.Group, c.Consumer)
	case workload.Assigned:
		return fmt.Sprintf("assigned consumer for group %s, %s", c.Group, c.Consumer)
	}
	return string(c.Role)
}
