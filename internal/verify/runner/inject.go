package runner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"sluice/internal/verify/history"
)

// inject fires the scheduled faults, one at a time, until the run's
// duration has passed (or ctx ends); it returns when the duration is
// over and the last fault has been undone. Faults that long ones before
// them pushed past the end are fired then, late rather than never: a run
// promises each of its faults. An error is a fault the broker did not
// recover from: the run cannot go on.
func (r *run) inject(ctx context.Context, events []Event) error {
	end := time.NewTimer(time.Until(r.t0.Add(r.cfg.Duration)))
	defer end.Stop()
	tick := time.NewTicker(r.cfg.ProgressEvery)
	defer tick.Stop()
	for i := 0; ; {
		var next <-chan time.Time
		if i < len(events) {
			next = time.After(time.Until(r.t0.Add(events[i].At)))
		}
		select {
		case <-ctx.Done():
			r.progressf("interrupted: stopping early")
			return nil
		case <-end.C:
			if i < len(events) {
				r.progressf("%d faults ran late; injecting them now", len(events)-i)
			}
			for ; i < len(events); i++ {
				if err := r.fire(events[i]); err != nil {
					return err
				}
			}
			return nil
		case <-tick.C:
			r.progressf("%s", r.tail.read())
		case <-next:
			if err := r.fire(events[i]); err != nil {
				return err
			}
			i++
		}
		if r.broker != nil {
			if err := r.broker.alive(); err != nil {
				return err
			}
		}
	}
}

// fire injects one fault and records it: a fault of the broker or the
// network in every workload's history, a fault of one client in its
// workload's. Consumers killed at a crash point record it themselves.
func (r *run) fire(e Event) error {
	pick := rand.New(rand.NewPCG(e.Pick, 1))
	start := time.Now()
	op := history.Op{Kind: history.Fault, Time: start, Fault: string(e.Fault), Outcome: history.OK}
	var err error
	var target *workloadRun // nil: every workload
	switch e.Fault {
	case BrokerKill:
		op.Detail, err = r.broker.kill()
	case BrokerPause:
		op.Detail, err = r.broker.pause(500*time.Millisecond + time.Duration(pick.Int64N(int64(1500*time.Millisecond))))
	case PowerLoss:
		op.Detail, err = r.broker.powerLoss()
	case DropAck:
		op.Detail, op.Outcome = r.dropAnswer(produceKey)
	case DropCommitAck:
		op.Detail, op.Outcome = r.dropAnswer(offsetCommitKey, txnOffsetCommitKey, endTxnKey)
	case Delay:
		op.Detail = r.delay(50*time.Millisecond + time.Duration(pick.Int64N(int64(350*time.Millisecond))))
	case Cut:
		op.Detail = fmt.Sprintf("cut %d connections", r.pool.CutAll())
	default:
		target = r.workloads[pick.IntN(len(r.workloads))]
		var logged bool
		op.Detail, op.Outcome, logged, err = r.clientFault(target, e.Fault, pick)
		if logged {
			r.progressf("fault %s (%s): %s", e.Fault, target.g, op.Detail)
			return err
		}
	}
	if err != nil {
		return fmt.Errorf("fault %s: %w", e.Fault, err)
	}
	op.End = time.Now()
	where := "every workload"
	for _, w := range r.workloads {
		if target == nil || target == w {
			if err := w.logFault(op); err != nil {
				return err
			}
		}
	}
	if target != nil {
		where = string(target.g)
	}
	r.progressf("fault %s (%s): %s%s", e.Fault, where, op.Detail, outcomeNote(op.Outcome))
	return nil
}

func outcomeNote(o history.Outcome) string {
	if o == history.OK {
		return ""
	}
	return " [did not take effect]"
}
