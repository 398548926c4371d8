// Package pgtest starts a private PostgreSQL server for a test: a new
// cluster (initdb) in a temp dir, served by postgres on a unix socket in
// that dir only (no TCP port), with the default settings (fsync on), stopped
// and removed when the test ends. The examples' tests keep their database
// in it.
//
// PostgreSQL is found in /usr/lib/postgresql/*/bin (Debian's package
// `postgresql`), else on PATH. Without it the test is skipped, except in CI
// (CI set), where .ci/run installs it and a missing one fails. initdb and
// postgres refuse to run as root: as root they run as the `postgres` system
// user, which owns the temp dir.
package pgtest

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sluice/internal/brokertest"
)

// Server is a running PostgreSQL server owned by one test.
type Server struct {
	// URL connects to the database "postgres" as the superuser "postgres"
	// over the unix socket, for example
	// postgres://postgres@/postgres?host=/tmp/sluice-pg-123
	URL string
	Dir string                 // the temp dir: data/ (the cluster) and the socket
	Log *brokertest.SyncBuffer // what initdb and postgres wrote

	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs a fresh PostgreSQL server until the test ends, with the
// default configuration changed by settings, each "name=value" (postgres
// -c name=value).
func Start(t testing.TB, settings ...string) *Server {
	t.Helper()
	bin := binDir(t)
	// Not t.TempDir: its parent is private to the test's user, and as root
	// the server runs as another user.
	dir, err := os.MkdirTemp(parentDir(), "sluice-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{Dir: dir, Log: &brokertest.SyncBuffer{}, exited: make(chan struct{})}
	cred := runAs(t, dir)

	data := filepath.Join(dir, "data")
	initdb := s.command(bin, cred, "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}

	// The port only names the socket file (dir/.s.PGSQL.5432): with no TCP
	// listener it cannot clash with anything.
	args := []string{"-D", data, "-k", dir, "-c", "listen_addresses=", "-p", "5432"}
	for _, kv := range settings {
		args = append(args, "-c", kv)
	}
	s.cmd = s.command(bin, cred, "postgres", args...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	ready := make(chan struct{})
	go s.scan(stderr, ready)
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.stop)
	select {
	case <-ready:
	case <-s.exited:
		t.Fatalf("postgres exited before it was ready:\n%s", s.Log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("postgres not ready after 60s:\n%s", s.Log.String())
	}
	s.URL = "postgres://postgres@/postgres?host=" + dir
	return s
}

// Exec runs sql (any number of statements without parameters, such as a
// schema file's contents) and fails the test on an error.
func (s *Server) Exec(t testing.TB, sql string) {
	t.Helper()
	conn := s.Connect(t)
	if _, err := conn.Exec(brokertest.Context(t, 30*time.Second), sql); err != nil {
		t.Fatalf("exec: %v\n%s", err, sql)
	}
}

// ExecFile runs the statements in the file at path.
func (s *Server) ExecFile(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Exec(t, string(b))
}

// Connect opens a connection, closed when the test ends.
func (s *Server) Connect(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(brokertest.Context(t, 30*time.Second), s.URL)
	if err != nil {
		t.Fatalf("connect to %s: %v", s.URL, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func (s *Server) command(bin string, cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Dir = s.Dir // postgres must be able to enter its working directory
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return cmd
}

// scan copies postgres's log into s.Log and closes ready at the line that
// says it accepts connections.
func (s *Server) scan(r io.Reader, ready chan<- struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	closed := false
	for sc.Scan() {
		line := sc.Text()
		s.Log.Write([]byte(line + "\n"))
		if !closed && strings.Contains(line, "database system is ready to accept connections") {
			close(ready)
			closed = true
		}
	}
}

// stop asks for a fast shutdown (SIGINT: open transactions are rolled
// back), and kills the server if it is still there after 30 s.
func (s *Server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// binDir returns the directory holding initdb and postgres: the newest
// /usr/lib/postgresql/<version>/bin, else the directory of initdb on PATH.
func binDir(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && isExec(filepath.Join(filepath.Dir(p), "postgres")) {
		return filepath.Dir(p)
	}
	if os.Getenv("CI") != "" {
		t.Fatal("PostgreSQL not installed in CI (no /usr/lib/postgresql/*/bin/initdb, no initdb on PATH)")
	}
	t.Skip("PostgreSQL not installed (apt-get install postgresql)")
	return ""
}

// parentDir is where the temp dir goes: the usual temp dir ($TMPDIR), or
// /tmp when running as root (the postgres user may not enter $TMPDIR) or
// when $TMPDIR is so long that the socket's path would pass the 107 bytes
// a unix socket's name may have.
func parentDir() string {
	if d := os.TempDir(); os.Geteuid() != 0 && len(d) <= 64 {
		return d
	}
	return "/tmp"
}

// version is the number in /usr/lib/postgresql/<version>/bin, 0 if none.
func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// runAs returns nil when the test is not root (the servers run as the
// test's user); as root, the credentials of the postgres system user, to
// whom it gives dir.
func runAs(t testing.TB, dir string) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("running as root, and there is no postgres user to run PostgreSQL as: %v", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		t.Fatalf("postgres user: uid %q gid %q", u.Uid, u.Gid)
	}
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		t.Fatal(err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}
