package tests

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/brokertest"
)

// The shape of TestTenThousandIdleConnections.
const (
	scaleIdle        = 10000 // authenticated connections that then send nothing
	scaleBurst       = 3000  // unauthenticated connections at once, over the limit
	scaleUnauthLimit = 2000  // max.connections.unauthenticated
	scaleFlood       = 2000  // more unauthenticated attempts while the client works
	scalePerIP       = 1000  // max.connections.per.ip
	scaleIdleHosts   = 20    // 127.0.0.10-29, 500 idle connections each
	scaleBurstHosts  = 10    // 127.0.0.100-109
	scaleRecords     = 1000  // produced and consumed meanwhile, exactly
	scaleDialers     = 64    // connections opened in parallel
	// maxConnBytes bounds what one connection may cost the broker, in
	// RSS and in Go heap and stacks. Measured: 22 KiB of RSS, 26 KiB of
	// heap and stacks (docs/operations.md, "Connection limits"); more
	// than twice that leaves room for the garbage a collection has not
	// taken yet (GOGC=100 lets the heap run ahead of what is live), for
	// another machine's page size and for another Go release's stacks,
	// and still fails a connection that keeps a 64 KiB buffer.
	maxConnBytes = 64 << 10
	// maxProduceLatency bounds each acks=all produce of the
	// authenticated client while twelve thousand connections are held
	// and more are refused: milliseconds here, seconds only if it waits
	// behind the flood.
	maxProduceLatency = 3 * time.Second
)

// Ten thousand idle connections and a burst of unauthenticated ones
// (issue 17): the broker keeps serving an authenticated client, with
// exact counts and bounded latency, and its memory stays bounded, measured
// per connection. The broker is a child process built without the race
// detector, so that its memory and its file descriptors are its own; its
// one SASL_PLAINTEXT listener has every connection limit set. The idle
// connections authenticate with PLAIN and then send nothing; half of the
// burst send nothing at all and half a SaslHandshake only.
// max.connections.per.ip is set too: the connections come from
// 127.0.0.10-29 and 127.0.0.100-109 (Linux routes all of 127/8 to
// loopback), under a thousand from each.
func TestTenThousandIdleConnections(t *testing.T) {
	needFiles(t, "this test", os.Getpid(), scaleIdle+scaleBurst+scaleDialers+500)
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte(plainUser+"="+plainPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := brokertest.StartProcessBinary(t, brokertest.BuildPackageNoRace(t, "./cmd/sluice"), t.TempDir(),
		"--security-protocol", "SASL_PLAINTEXT", "--sasl-enabled-mechanisms", "PLAIN", "--sasl-plain-users-file", users,
		"--max-connections", strconv.Itoa(scaleIdle+scaleUnauthLimit+100),
		"--max-connections-per-ip", strconv.Itoa(scalePerIP),
		"--max-connections-unauthenticated", strconv.Itoa(scaleUnauthLimit),
		"--metrics-listen", "127.0.0.1:0", "--log-level", "info")
	needFiles(t, "the broker", p.Pid(), scaleIdle+scaleBurst+500)
	m := regexp.MustCompile(`sluice: metrics endpoint"? listen=(\S+)`).FindStringSubmatch(p.Log.String())
	if m == nil {
		t.Fatalf("no metrics endpoint logged:\n%s", p.Log.String())
	}
	mem := brokerMemory{t: t, pid: p.Pid(), metrics: m[1]}

	// The authenticated client, connected before anything else: a
	// producer and a reader of one partition, each with its connections
	// open, which franz-go keeps (ConnIdleTimeout) for the whole test.
	topic := topicName(t, "scale")
	auth := []kgo.Opt{plainAuth(plainUser, plainPass), kgo.ConnIdleTimeout(10 * time.Minute)}
	producer := newClient(t, p.Addr, append(auth, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	createTopic(t, kadm.NewClient(producer), topic, 1, nil)
	reader := newClient(t, p.Addr, append(auth, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(100*time.Millisecond))...)
	produceTimed(t, producer, 0, 1)
	readExactly(t, reader, 0, 1)

	base := mem.settled(0)
	idle := openConns(t, p.Addr, scaleIdle, func(i int) (net.Conn, error) {
		return authenticatedConn(p.Addr, 10+i%scaleIdleHosts)
	})
	withIdle := mem.settled(base.conns + scaleIdle)
	openConns(t, p.Addr, scaleBurst, func(i int) (net.Conn, error) {
		return unauthenticatedConn(p.Addr, 100+i%scaleBurstHosts, i%2 == 1)
	})
	withBurst := mem.settled(withIdle.conns + scaleUnauthLimit)
	refusedLog := "refusing a connection over max.connections.unauthenticated"
	waitLogCount(t, p.Log, refusedLog, scaleBurst-scaleUnauthLimit)

	perIdle := withIdle.perConn(base, scaleIdle)
	perUnauth := withBurst.perConn(withIdle, scaleUnauthLimit)
	t.Logf("broker at start: %s", base)
	t.Logf("%d idle authenticated connections: %s; each: %s", scaleIdle, withIdle, perIdle)
	t.Logf("%d unauthenticated connections held (%d refused): %s; each: %s", scaleUnauthLimit, scaleBurst-scaleUnauthLimit, withBurst, perUnauth)
	perIdle.check(t, "an idle authenticated connection")
	perUnauth.check(t, "an unauthenticated connection")

	// The authenticated client works while every unauthenticated place
	// is taken and more unauthenticated connections keep coming.
	flood := make(chan error, 1)
	go func() { flood <- refusedConns(p.Addr, scaleFlood) }()
	lat := produceTimed(t, producer, 1, scaleRecords)
	readExactly(t, reader, 1, scaleRecords)
	if err := <-flood; err != nil {
		t.Fatal(err)
	}
	waitLogCount(t, p.Log, refusedLog, scaleBurst-scaleUnauthLimit+scaleFlood)
	slices.Sort(lat)
	t.Logf("%d acks=all produces meanwhile: p50 %v, p99 %v, max %v", len(lat), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	if worst := lat[len(lat)-1]; worst > maxProduceLatency {
		t.Fatalf("a produce took %v, want at most %v", worst, maxProduceLatency)
	}

	// Nothing held was dropped, and the idle connections are still served.
	if got := mem.sample().conns; got != withBurst.conns {
		t.Fatalf("%d connections open after the flood, want the %d held before it", got, withBurst.conns)
	}
	for i := 0; i < len(idle); i += len(idle) / 10 {
		if err := apiVersionsOn(idle[i], 2); err != nil {
			t.Fatalf("idle connection %d after the flood: %v", i, err)
		}
	}
}

// needFiles fails the test unless process pid may open n files. Go
// raises its soft RLIMIT_NOFILE to the hard limit at start (since Go
// 1.19), so a Go process gets its hard limit; a hard limit under n fails
// rather than letting the test measure fewer connections.
func needFiles(t *testing.T, who string, pid, n int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, "Max open files")
		if f := strings.Fields(rest); ok && len(f) == 3 {
			soft, hard := f[0], f[1]
			if got, err := strconv.Atoi(soft); soft == "unlimited" || (err == nil && got >= n) {
				return
			}
			t.Fatalf("%s has up to %d connections open and needs %d file descriptors, but its RLIMIT_NOFILE is %s (hard %s): raise the hard limit (ulimit -Hn %d, or LimitNOFILE= under systemd)",
				who, scaleIdle+scaleBurst, n, soft, hard, n)
		}
	}
	t.Fatalf("no open files limit in /proc/%d/limits:\n%s", pid, b)
}

// openConns opens n connections with open, scaleDialers at a time, and
// closes them when the test ends.
func openConns(t *testing.T, addr string, n int, open func(i int) (net.Conn, error)) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	err := inParallel(n, func(i int) error {
		c, err := open(i)
		if err != nil {
			return fmt.Errorf("connection %d of %d to %s: %w", i, n, addr, err)
		}
		conns[i] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return conns
}

// dialFrom connects to addr from the loopback address 127.0.0.host.
func dialFrom(addr string, host int) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(host))}, Timeout: 10 * time.Second}
	return d.Dial("tcp", addr)
}

// authenticatedConn connects from 127.0.0.host and authenticates with
// PLAIN: a SaslHandshake v1 and a SaslAuthenticate v1.
func authenticatedConn(addr string, host int) (net.Conn, error) {
	nc, err := dialFrom(addr, host)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "PLAIN"
	hsr := kmsg.NewPtrSASLHandshakeResponse()
	hsr.Version = 1
	au := kmsg.NewPtrSASLAuthenticateRequest()
	au.Version, au.SASLAuthBytes = 1, []byte("\x00"+plainUser+"\x00"+plainPass)
	aur := kmsg.NewPtrSASLAuthenticateResponse()
	aur.Version = 1
	err = roundTripRaw(nc, hs, hsr, 1)
	if err == nil && hsr.ErrorCode != 0 {
		err = fmt.Errorf("SaslHandshake: error code %d", hsr.ErrorCode)
	}
	if err == nil {
		err = roundTripRaw(nc, au, aur, 2)
	}
	if err == nil && aur.ErrorCode != 0 {
		err = fmt.Errorf("SaslAuthenticate: error code %d", aur.ErrorCode)
	}
	if err == nil {
		err = nc.SetDeadline(time.Time{})
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

// unauthenticatedConn connects from 127.0.0.host and sends nothing, or
// only a SaslHandshake (not reading its answer: the broker may have
// refused the connection).
func unauthenticatedConn(addr string, host int, handshake bool) (net.Conn, error) {
	nc, err := dialFrom(addr, host)
	if err != nil || !handshake {
		return nc, err
	}
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "PLAIN"
	_ = nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, _ = nc.Write(rawFrame(hs, 1)) // a refused connection may be reset already
	return nc, nil
}

// refusedConns opens n unauthenticated connections, scaleDialers at a
// time, from the burst's addresses, and waits for the broker to close
// each: every unauthenticated place is taken.
func refusedConns(addr string, n int) error {
	return inParallel(n, func(i int) error {
		nc, err := dialFrom(addr, 100+i%scaleBurstHosts)
		if err != nil {
			return err
		}
		_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = nc.Read(make([]byte, 1))
		nc.Close()
		var ne net.Error
		if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
			return fmt.Errorf("an unauthenticated connection over the limit was not closed (%v)", err)
		}
		return nil
	})
}

// inParallel runs fn for 0..n-1, scaleDialers at a time; each runner
// stops at its first error.
func inParallel(n int, fn func(i int) error) error {
	var next atomic.Int64
	errs := make(chan error, scaleDialers)
	for range scaleDialers {
		go func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					errs <- nil
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
	for range scaleDialers {
		err = errors.Join(err, <-errs)
	}
	return err
}

// roundTripRaw sends req on nc and reads its answer into resp (a
// non-flexible response: no header tags).
func roundTripRaw(nc net.Conn, req kmsg.Request, resp kmsg.Response, corr int32) error {
	if _, err := nc.Write(rawFrame(req, corr)); err != nil {
		return err
	}
	var l [4]byte
	if _, err := io.ReadFull(nc, l[:]); err != nil {
		return err
	}
	body := make([]byte, binary.BigEndian.Uint32(l[:]))
	if _, err := io.ReadFull(nc, body); err != nil {
		return err
	}
	if len(body) < 4 || int32(binary.BigEndian.Uint32(body)) != corr {
		return fmt.Errorf("%s: answer to another request", kmsg.NameForKey(req.Key()))
	}
	return resp.ReadFrom(body[4:])
}

// apiVersionsOn asks an open connection for ApiVersions v0.
func apiVersionsOn(nc net.Conn, corr int32) error {
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	req := kmsg.NewPtrApiVersionsRequest()
	resp := req.ResponseKind()
	if err := roundTripRaw(nc, req, resp, corr); err != nil {
		return err
	}
	if code := resp.(*kmsg.ApiVersionsResponse).ErrorCode; code != 0 {
		return fmt.Errorf("ApiVersions: error code %d", code)
	}
	return nil
}

// produceTimed produces values from..from+n-1 to partition 0, one
// acks=all produce at a time, checks their offsets and returns how long
// each took.
func produceTimed(t *testing.T, cl *kgo.Client, from, n int) []time.Duration {
	t.Helper()
	lat := make([]time.Duration, 0, n)
	for i := from; i < from+n; i++ {
		start := time.Now()
		r, err := cl.ProduceSync(testCtx(t, 20*time.Second), &kgo.Record{Value: val(i)}).First()
		lat = append(lat, time.Since(start))
		if err != nil || r.Offset != int64(i) {
			t.Fatalf("produce %d: %v, %v", i, r, err)
		}
	}
	return lat
}

// readExactly reads the values from..from+n-1, in order, with the
// reader's next fetches.
func readExactly(t *testing.T, cl *kgo.Client, from, n int) {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	next := from
	for next < from+n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records before the deadline", next-from, n)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		for _, r := range fs.Records() {
			if got := atoi(t, r.Value); got != next || r.Offset != int64(next) {
				t.Fatalf("record at offset %d holds %d, want %d at %d", r.Offset, got, next, next)
			}
			next++
		}
	}
	if next != from+n {
		t.Fatalf("read up to %d, want exactly %d records from %d", next, n, from)
	}
}

// waitLogCount waits until the log holds line want times, and fails if
// it holds it more often.
func waitLogCount(t *testing.T, log *brokertest.SyncBuffer, line string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := strings.Count(log.String(), line)
		if got > want {
			t.Fatalf("%d log lines %q, want %d", got, line, want)
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d log lines %q, want %d", got, line, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// brokerMemory reads a broker process's memory: its RSS from /proc, and
// the Go heap and goroutine stacks and the open connections from its
// /metrics.
type brokerMemory struct {
	t       *testing.T
	pid     int
	metrics string
}

type memSample struct {
	conns             int
	rss, heap, stacks float64 // bytes
}

func (s memSample) String() string {
	return fmt.Sprintf("%d connections, RSS %.1f MiB, Go heap in use %.1f MiB, stacks %.1f MiB",
		s.conns, s.rss/(1<<20), s.heap/(1<<20), s.stacks/(1<<20))
}

// connCost is what one connection added, in bytes.
type connCost struct{ rss, heap, stacks float64 }

func (s memSample) perConn(before memSample, n int) connCost {
	return connCost{
		rss:    (s.rss - before.rss) / float64(n),
		heap:   (s.heap - before.heap) / float64(n),
		stacks: (s.stacks - before.stacks) / float64(n),
	}
}

func (c connCost) String() string {
	return fmt.Sprintf("RSS %.1f KiB, Go heap and stacks %.1f KiB (heap %.1f, stacks %.1f)",
		c.rss/1024, (c.heap+c.stacks)/1024, c.heap/1024, c.stacks/1024)
}

func (c connCost) check(t *testing.T, what string) {
	t.Helper()
	if c.rss > maxConnBytes || c.heap+c.stacks > maxConnBytes {
		t.Fatalf("%s costs the broker %s, want at most %d KiB of RSS and of Go memory", what, c, maxConnBytes>>10)
	}
}

func (b brokerMemory) sample() memSample {
	b.t.Helper()
	fams := scrape(b.t, b.metrics)
	s := memSample{
		conns:  int(metricValue(b.t, fams, "kafka_server_socket_server_metrics_connection_count")),
		heap:   metricValue(b.t, fams, "go_memstats_heap_inuse_bytes"),
		stacks: metricValue(b.t, fams, "go_memstats_stack_inuse_bytes"),
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", b.pid))
	if err != nil {
		b.t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				b.t.Fatalf("VmRSS: %q", v)
			}
			s.rss = float64(kb) * 1024
		}
	}
	if s.rss == 0 {
		b.t.Fatalf("no VmRSS in /proc/%d/status", b.pid)
	}
	return s
}

// settled samples the broker once it holds conns connections (any number
// for 0), waiting for the last ones to be accepted.
func (b brokerMemory) settled(conns int) memSample {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := b.sample()
		if conns == 0 || s.conns == conns {
			return s
		}
		if s.conns > conns || time.Now().After(deadline) {
			b.t.Fatalf("the broker holds %d connections, want %d", s.conns, conns)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
