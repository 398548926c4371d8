package pgtest

import (
	"testing"
	"time"

	"sluice/internal/brokertest"
)

// A server starts with the default durability settings and the settings
// given, runs a schema of several statements and keeps what was
// committed.
func TestStart(t *testing.T) {
	s := Start(t, "client_connection_check_interval=250ms")
	var fsync, syncCommit, check string
	conn := s.Connect(t)
	ctx := brokertest.Context(t, 30*time.Second)
	if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SHOW synchronous_commit").Scan(&syncCommit); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SHOW client_connection_check_interval").Scan(&check); err != nil {
		t.Fatal(err)
	}
	if fsync != "on" || syncCommit != "on" {
		t.Fatalf("fsync=%s synchronous_commit=%s, want the defaults (on, on)", fsync, syncCommit)
	}
	if check != "250ms" {
		t.Fatalf("client_connection_check_interval=%s, want the 250ms given to Start", check)
	}
	s.Exec(t, `CREATE TABLE t (id integer PRIMARY KEY); INSERT INTO t VALUES (1), (2);`)
	var n int
	if err := s.Connect(t).QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count %d, %v; want 2", n, err)
	}
}
