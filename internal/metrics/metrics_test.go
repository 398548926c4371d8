package metrics

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"sluice/internal/vfs"
)

// The produce and fetch paths' calls allocate nothing once a topic has
// been seen.
func TestHotPathDoesNotAllocate(t *testing.T) {
	m := New(Config{APIs: []int16{0, 1}})
	m.Appended("t", 100, 3, false) // first sight of the topic allocates its counters
	allocs := testing.AllocsPerRun(1000, func() {
		m.Request(0, time.Millisecond)
		m.Request(1, 2*time.Millisecond)
		m.Request(99, time.Millisecond) // a key without series: ignored
		m.Appended("t", 100, 3, false)
		m.Appended("t", 100, 3, true)
		m.Fetched("t", 100)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per produce+fetch, want 0", allocs)
	}
}

// Only the broker's APIs get request series, named as Kafka names them.
func TestRequestSeriesPerHandledAPI(t *testing.T) {
	m := New(Config{APIs: []int16{0, 18}})
	m.Request(0, time.Millisecond)
	m.Request(0, time.Millisecond)
	m.Request(3, time.Millisecond) // Metadata: not in APIs
	want := `
# HELP kafka_network_requestmetrics_requests_total Requests answered, by API (Kafka's RequestMetrics RequestsPerSec).
# TYPE kafka_network_requestmetrics_requests_total counter
kafka_network_requestmetrics_requests_total{request="ApiVersions"} 0
kafka_network_requestmetrics_requests_total{request="Produce"} 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "kafka_network_requestmetrics_requests_total"); err != nil {
		t.Fatal(err)
	}
}

// slowFile's Sync takes d.
type slowFS struct {
	vfs.FS
	d time.Duration
}

func (s slowFS) Create(name string) (vfs.File, error) {
	f, err := s.FS.Create(name)
	return slowFile{f, s.d}, err
}

type slowFile struct {
	vfs.File
	d time.Duration
}

func (f slowFile) Sync() error { time.Sleep(f.d); return f.File.Sync() }

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Every fsync, of a file or a directory, is timed; one at or over the
// threshold is logged with its file and counted.
func TestFsyncsTimedAndSlowOnesLogged(t *testing.T) {
	var log syncBuf
	m := New(Config{SlowFsync: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	fsys := m.FS(slowFS{vfs.NewMem(), 30 * time.Millisecond})
	if err := fsys.MkdirAll("d"); err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Create("d/00000000000000000000.log")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir("d"); err != nil { // fast
		t.Fatal(err)
	}
	if got := testutil.CollectAndCount(m.fsync); got != 1 {
		t.Fatalf("%d fsync histograms", got)
	}
	if got := testutil.ToFloat64(m.slowFsyncs); got != 1 {
		t.Errorf("slow fsyncs = %v, want 1 (the file's, not the directory's)", got)
	}
	if !strings.Contains(log.String(), "slow fsync") || !strings.Contains(log.String(), "d/00000000000000000000.log") {
		t.Errorf("log %q does not name the slow fsync's file", log.String())
	}
	n := sampleCount(t, m)
	if n != 2 {
		t.Errorf("fsyncs observed = %d, want 2 (file and directory)", n)
	}
}

func sampleCount(t *testing.T, m *Metrics) uint64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "sluice_fsync_duration_seconds" {
			return f.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatal("no sluice_fsync_duration_seconds")
	return 0
}

// /readyz follows SetReady; /healthz always answers.
func TestHealthAndReadiness(t *testing.T) {
	m := New(Config{})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	get := func(path string) int {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if get("/healthz") != 200 || get("/readyz") != 503 {
		t.Fatal("before recovery: want healthz 200, readyz 503")
	}
	m.SetReady(true)
	if get("/readyz") != 200 || get("/metrics") != 200 {
		t.Fatal("serving: want readyz and metrics 200")
	}
	m.SetReady(false)
	if get("/readyz") != 503 {
		t.Fatal("shutting down: want readyz 503")
	}
}
