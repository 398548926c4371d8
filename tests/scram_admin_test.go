package tests

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/brokertest"
)

func upsert(name string, mech int8, iters int32) kmsg.AlterUserSCRAMCredentialsRequestUpsertion {
	u := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
	u.Name, u.Mechanism, u.Iterations, u.Salt, u.SaltedPassword = name, mech, iters, []byte("salt"), []byte("salted-password")
	return u
}

func deletion(name string, mech int8) kmsg.AlterUserSCRAMCredentialsRequestDeletion {
	d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
	d.Name, d.Mechanism = name, mech
	return d
}

// AlterUserScramCredentials answers one result per user, in order of
// first appearance, with Kafka's code for each fault, and applies only
// the users without one.
func TestAlterUserScramCredentialsErrors(t *testing.T) {
	b := brokertest.Start(t)
	cl := newClient(t, b.Addr())
	ctx := testCtx(t, 10*time.Second)

	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	req.Deletions = []kmsg.AlterUserSCRAMCredentialsRequestDeletion{deletion("gone", 1)}
	bad := upsert("nosalt", 1, 4096)
	bad.Salt = nil
	req.Upsertions = []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{
		upsert("ok", 1, 4096), upsert("ok", 2, 16384),
		upsert("few", 1, 4095), upsert("many", 2, 16385),
		upsert("mech", 3, 4096), upsert("", 1, 4096),
		upsert("twice", 1, 4096), upsert("twice", 1, 8192),
		bad,
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		user string
		code int16
	}{
		{"gone", kerr.ResourceNotFound.Code},
		{"ok", 0},
		{"few", kerr.UnacceptableCredential.Code},
		{"many", kerr.UnacceptableCredential.Code},
		{"mech", kerr.UnsupportedSaslMechanism.Code},
		{"", kerr.UnacceptableCredential.Code},
		{"twice", kerr.DuplicateResource.Code},
		{"nosalt", kerr.UnacceptableCredential.Code},
	}
	if len(resp.Results) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(resp.Results), len(want), resp.Results)
	}
	for i, w := range want {
		r := resp.Results[i]
		if r.User != w.user || r.ErrorCode != w.code || (w.code != 0) != (r.ErrorMessage != nil) {
			t.Errorf("result %d: user %q code %d message %v, want %q code %d", i, r.User, r.ErrorCode, r.ErrorMessage, w.user, w.code)
		}
	}

	// Only "ok" was applied; a user named twice is DUPLICATE_RESOURCE, an
	// unknown one RESOURCE_NOT_FOUND.
	d := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	for _, n := range []string{"ok", "twice", "dup", "dup"} {
		u := kmsg.NewDescribeUserSCRAMCredentialsRequestUser()
		u.Name = n
		d.Users = append(d.Users, u)
	}
	dr, err := d.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if dr.ErrorCode != 0 || len(dr.Results) != 3 {
		t.Fatalf("describe: code %d, %d results", dr.ErrorCode, len(dr.Results))
	}
	ok, twice, dup := dr.Results[0], dr.Results[1], dr.Results[2]
	if ok.User != "ok" || ok.ErrorCode != 0 || len(ok.CredentialInfos) != 2 ||
		ok.CredentialInfos[0].Mechanism != 1 || ok.CredentialInfos[0].Iterations != 4096 ||
		ok.CredentialInfos[1].Mechanism != 2 || ok.CredentialInfos[1].Iterations != 16384 {
		t.Errorf("ok: %+v", ok)
	}
	if twice.User != "twice" || twice.ErrorCode != kerr.ResourceNotFound.Code {
		t.Errorf("twice: %+v", twice)
	}
	if dup.User != "dup" || dup.ErrorCode != kerr.DuplicateResource.Code {
		t.Errorf("dup: %+v", dup)
	}

	// Deleting one mechanism leaves the other; describing everyone
	// (no users) lists "ok" alone.
	req = kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	req.Deletions = []kmsg.AlterUserSCRAMCredentialsRequestDeletion{deletion("ok", 1)}
	if resp, err := req.RequestWith(ctx, cl); err != nil || len(resp.Results) != 1 || resp.Results[0].ErrorCode != 0 {
		t.Fatalf("delete: %v %+v", err, resp)
	}
	all, err := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest().RequestWith(ctx, cl)
	if err != nil || len(all.Results) != 1 || all.Results[0].User != "ok" || len(all.Results[0].CredentialInfos) != 1 || all.Results[0].CredentialInfos[0].Mechanism != 2 {
		t.Fatalf("describe all: %v %+v", err, all)
	}
}
