package runner

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"sluice/internal/verify/check"
	"sluice/internal/verify/workload"
)

var (
	buildOnce sync.Once
	binDir    string
	exe       string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// sluiceBinary builds the sluice binary the runs' child processes run.
// It is built without the race detector: a run has a broker and a dozen
// or more clients at once, on a small machine; the test process itself,
// which runs the proxies and the runner, is under -race.
func sluiceBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "sluice-verify-bin-"); buildErr != nil {
			return
		}
		exe = filepath.Join(binDir, "sluice")
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", exe, "./cmd/sluice")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return exe
}

// verifyRun runs cfg against a spawned Sluice, logging progress to the
// test.
func verifyRun(t *testing.T, cfg Config) *Result {
	t.Helper()
	if testing.Short() {
		t.Skip("runs brokers and clients for seconds")
	}
	cfg.Exe, cfg.Dir, cfg.Progress = sluiceBinary(t), t.TempDir(), testWriter{t}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// violations lists the anomalies that broke the workload's guarantee.
func violations(w WorkloadResult) map[check.Anomaly]int {
	out := map[check.Anomaly]int{}
	for _, v := range w.Verdict.Violations {
		out[v.Anomaly] = v.Count
	}
	return out
}

// A consumer that commits before it processes, killed between the two,
// loses what it had committed: under at-least-once that is reported as
// undelivered records, and the run fails.
func TestCommitBeforeProcessingIsCaughtAsLoss(t *testing.T) {
	wantCaught(t, Config{
		Guarantees: []check.Guarantee{check.AtLeastOnce}, Consumer: workload.CommitBefore,
		Faults: []Fault{ConsumerKill, ConsumerKillAfterCommit}, Duration: 6 * time.Second,
	}, check.Undelivered, ConsumerKillAfterCommit)
}

// A producer without idempotence retries a batch whose acknowledgement
// the proxy dropped, and the log holds it twice: under the idempotent
// guarantee, duplicates, and the run fails.
func TestPlainProducerBehindDroppingProxyIsCaughtAsDuplicates(t *testing.T) {
	wantCaught(t, Config{
		Guarantees: []check.Guarantee{check.Idempotent}, Producer: workload.AcksAll,
		Faults: []Fault{DropAck}, Duration: 5 * time.Second,
	}, check.Duplicate, DropAck)
}

// wantCaught runs a wrong setup of one guarantee and wants it violated by
// an, with f among the faults that took effect.
func wantCaught(t *testing.T, cfg Config, an check.Anomaly, f Fault) {
	t.Helper()
	cfg.FaultEvery, cfg.Seed = time.Second, 3
	res := verifyRun(t, cfg)
	w := res.Workloads[0]
	if !res.Violated() || violations(w)[an] == 0 {
		t.Fatalf("verdict %+v: want %s violated by %s (histories in %s)", w.Verdict, w.Guarantee, an, w.Dir)
	}
	if !tookEffect(w, f) {
		t.Fatalf("%s never took effect; faults: %v", f, w.Check.Faults)
	}
}

// Each guarantee's own settings keep it against Sluice under every
// fault, power loss included; and the run did what it claims: every
// fault took effect, every workload sent, delivered and drained. Its
// HTML report opens in Chromium and shows every workload's timeline.
func TestEveryGuaranteeHoldsUnderFaults(t *testing.T) {
	faults, err := ParseFaults("all,power-loss", true)
	if err != nil {
		t.Fatal(err)
	}
	res := verifyRun(t, Config{Faults: faults, Duration: 15 * time.Second, FaultEvery: time.Second, Seed: 1})
	for _, w := range res.Workloads {
		if !w.Verdict.Holds {
			t.Errorf("%s violated: %+v (histories in %s)", w.Guarantee, w.Verdict.Violations, w.Dir)
		}
	}
	if unmet := res.AllUnmet(); len(unmet) > 0 {
		t.Errorf("the run tested less than it claims:\n%s", strings.Join(unmet, "\n"))
	}
	if len(res.Workloads) != len(check.Guarantees) {
		t.Fatalf("%d workloads, want one per guarantee", len(res.Workloads))
	}
	wantPageDrawn(t, res)
}

func tookEffect(w WorkloadResult, f Fault) bool {
	for _, op := range w.Check.Faults {
		if op.Fault == string(f) && op.Outcome == "ok" {
			return true
		}
	}
	return false
}
