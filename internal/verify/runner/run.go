package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/internal/verify/faultproxy"
	"sluice/internal/verify/workload"
)

// run is one run in progress.
type run struct {
	cfg       Config
	dir       string
	direct    []string // the brokers, for the run's own admin requests
	broker    *spawnedBroker
	pool      *faultproxy.Pool
	adm       *kadm.Client
	workloads []*workloadRun
	tail      *tail // read by the injector only
	t0        time.Time
	ids       atomic.Int64 // process ids; 0 is the runner
	stopping  atomic.Bool  // set once clients are being stopped: exits are expected
	procs     sync.WaitGroup

	mu    sync.Mutex
	unmet []string // run-wide expectations missed, noted as they happen
}

// Run carries out a run and checks it. The error is for a run that could
// not be carried out (a broker that does not start, a directory that
// cannot be written); what the run found is in the Result, whose
// histories stay in its Dir. Cancelling ctx ends the faults early; the
// stop, the drain and the check still happen.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, dir: cfg.Dir}
	if r.dir == "" {
		var err error
		if r.dir, err = os.MkdirTemp("", "sluice-verify-"); err != nil {
			return nil, err
		}
	}
	defer r.cleanup()
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	if err := r.inject(ctx, Schedule(cfg.Seed, cfg.Duration, cfg.FaultEvery, cfg.Faults)); err != nil {
		return nil, err
	}
	drains, err := r.stop()
	if err != nil {
		return nil, err
	}
	return r.result(drains)
}

// start brings up the broker, the proxies, the topics and the clients.
func (r *run) start(ctx context.Context) error {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return err
	}
	r.direct = r.cfg.Brokers
	if r.cfg.Spawn() {
		b, err := spawnBroker(r.cfg.Exe, r.dir, slices.Contains(r.cfg.Faults, PowerLoss), r.cfg.Journal)
		if err != nil {
			return err
		}
		r.broker, r.direct = b, []string{b.addr}
	}
	pool, err := faultproxy.NewPool(r.direct)
	if err != nil {
		return err
	}
	r.pool = pool
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.direct...))
	if err != nil {
		return err
	}
	r.adm = kadm.NewClient(cl)
	if err := r.createWorkloads(ctx); err != nil {
		return err
	}
	r.t0, r.tail = time.Now(), newTail(r.workloads)
	for _, w := range r.workloads {
		for _, c := range w.roster(r.baseConfig()) {
			if err := r.startSlot(w, w.addSlot(c), nil); err != nil {
				return err
			}
		}
	}
	r.progressf("started %d workloads (%s) with faults [%s], seed %d; histories in %s",
		len(r.workloads), r.guaranteeNames(), joinFaults(r.cfg.Faults), r.cfg.Seed, r.dir)
	return nil
}

// createWorkloads makes each guarantee's directory and topics. Names
// carry a random run id: runs against one cluster must not share topics.
func (r *run) createWorkloads(ctx context.Context) error {
	id := make([]byte, 3)
	rand.Read(id)
	for _, g := range r.cfg.Guarantees {
		s := setups[g]
		if r.cfg.Producer != "" {
			s.producer = r.cfg.Producer
		}
		if r.cfg.Consumer != "" && !s.eos {
			s.consumer = r.cfg.Consumer
		}
		w, err := newWorkload(g, s, filepath.Join(r.dir, string(g)), fmt.Sprintf("verify-%s-%s", shortName(g), hex.EncodeToString(id)))
		if err != nil {
			return err
		}
		r.workloads = append(r.workloads, w)
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		resp, err := r.adm.CreateTopics(ctx, r.cfg.Partitions, -1, nil, w.topics()...)
		cancel()
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("create the topics of %s: %w", g, err)
		}
	}
	return nil
}

func (r *run) baseConfig() workload.Config {
	return workload.Config{
		Brokers: r.pool.Seeds(), Partitions: r.cfg.Partitions, Rate: r.cfg.Rate,
		SessionTimeout: r.cfg.SessionTimeout, Seed: r.cfg.Seed,
	}
}

// startSlot starts a process in s in place of prev (nil for a new slot),
// unless another already replaced prev, and watches it: a process that
// exits when the run did not end it is noted and replaced.
func (r *run) startSlot(w *workloadRun, s *slot, prev *child) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != prev {
		return nil
	}
	cfg := s.cfg
	cfg.Process = int(r.ids.Add(1))
	name := fmt.Sprintf("p%d-%s", cfg.Process, cfg.Role)
	cfg.History = filepath.Join(w.dir, name+".jsonl")
	c, err := startChild(r.cfg.Exe, append([]string{"verify", "worker"}, cfg.Args()...), nil, filepath.Join(w.dir, name+".log"), "")
	if err != nil {
		return err
	}
	s.proc, s.id = c, cfg.Process
	r.procs.Add(1)
	go func() {
		defer r.procs.Done()
		<-c.exited
		if c.ours.Load() || r.stopping.Load() {
			return
		}
		if c.cmd.ProcessState.ExitCode() == workload.ExitUnknownOutcome {
			r.progressf("p%d (%s, %s) stopped on a transaction of unknown outcome; a replacement fences it", cfg.Process, cfg.Role, w.g)
		} else {
			r.note("p%d (%s, %s) exited by itself: %s; see %s", cfg.Process, cfg.Role, w.g, c.exitStatus(), filepath.Join(w.dir, name+".log"))
		}
		if err := r.startSlot(w, s, c); err != nil {
			r.note("could not replace p%d: %v", cfg.Process, err)
		}
	}()
	return nil
}

// note records a run-wide expectation missed, and says so at once.
func (r *run) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.unmet = append(r.unmet, msg)
	r.mu.Unlock()
	r.progressf("%s", msg)
}

// progressf prints one progress line, stamped with the run's time.
func (r *run) progressf(format string, args ...any) {
	at := time.Duration(0)
	if !r.t0.IsZero() {
		at = time.Since(r.t0)
	}
	fmt.Fprintf(r.cfg.Progress, "[%6.1fs] %s\n", at.Seconds(), fmt.Sprintf(format, args...))
}
