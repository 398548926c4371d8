package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"sluice/internal/verify/workload"
)

// Timeouts of the stop: a producer flushes (workload's flush timeout is
// 10s), the groups catch up, the drain reads.
const (
	stopTimeout    = 20 * time.Second
	catchUpTimeout = 30 * time.Second
	drainTimeout   = 60 * time.Second
)

// stop ends the clients in the order that lets every record be read:
// producers first (they flush), then, once the groups have committed up
// to the end, the consumers; then the drain reads every topic, and the
// broker stops.
func (r *run) stop() (map[*workloadRun]workload.DrainResult, error) {
	r.stopping.Store(true)
	r.progressf("stopping: producers flush, consumers catch up, then the final drain")
	r.stopRoles(workload.Producer)
	r.catchUp()
	r.stopRoles(workload.Consumer, workload.Assigned, workload.EOS, workload.Observer)
	r.procs.Wait()
	drains := map[*workloadRun]workload.DrainResult{}
	for _, w := range r.workloads {
		d, err := r.drain(w)
		if err != nil {
			return nil, fmt.Errorf("final drain of %s: %w", w.g, err)
		}
		drains[w] = d
	}
	if r.broker != nil {
		if err := r.broker.stop(); err != nil {
			r.note("%v", err)
		}
	}
	if err := r.pool.Close(); err != nil {
		r.note("the proxies saw answers they could not match: %v", err)
	}
	return drains, nil
}

// stopRoles stops every process of those roles at once and waits.
func (r *run) stopRoles(roles ...workload.Role) {
	var wg sync.WaitGroup
	for _, w := range r.workloads {
		for _, s := range w.slotsOf(roles...) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, id := s.current()
				if !c.stop(stopTimeout) {
					r.note("p%d (%s, %s) did not stop cleanly: %s", id, s.cfg.Role, w.g, c.exitStatus())
				}
			}()
		}
	}
	wg.Wait()
}

func (r *run) drain(w *workloadRun) (workload.DrainResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	id := int(r.ids.Add(1))
	return workload.Drain(ctx, r.direct, w.topics(), id, filepath.Join(w.dir, fmt.Sprintf("p%d-drain.jsonl", id)))
}

// cleanup ends whatever is left after an early return.
func (r *run) cleanup() {
	r.stopping.Store(true)
	for _, w := range r.workloads {
		for _, s := range w.slotsOf(workload.Producer, workload.Consumer, workload.Assigned, workload.EOS, workload.Observer) {
			if c, _ := s.current(); c != nil && !c.done() {
				c.kill()
			}
		}
		w.closeF()
	}
	if r.broker != nil && !r.broker.c.done() {
		r.broker.c.kill()
	}
	if r.pool != nil {
		r.pool.Close()
	}
	if r.adm != nil {
		r.adm.Close()
	}
}
