package metadata

import (
	"encoding/json"
	"slices"
	"testing"

	"sluice/internal/acl"
	"sluice/internal/vfs"
)

func binding(name string, op acl.Operation) acl.Binding {
	return acl.Binding{ResourceType: acl.ResourceTopic, ResourceName: name, PatternType: acl.PatternLiteral, Principal: "User:a", Host: "*", Operation: op, Permission: acl.PermAllow}
}

// Bindings are added and removed, survive a reopen, and are written at
// record version 3, so a binary from before them refuses the catalog with
// the version message while a catalog without them still opens there.
func TestACLsPersist(t *testing.T) {
	fsys := vfs.NewMem()
	s, err := OpenStore(fsys, testDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, w, d := binding("t", acl.OpRead), binding("t", acl.OpWrite), binding("u", acl.OpDelete)
	for _, rec := range []Record{
		{Type: RecClusterID, ClusterID: "c"},
		{Type: RecACLs, AddACLs: []acl.Binding{r, w}},
		{Type: RecACLs, AddACLs: []acl.Binding{r, d}}, // r again: kept once
		{Type: RecACLs, DeleteACLs: []acl.Binding{w}},
	} {
		if err := s.Commit(rec); err != nil {
			t.Fatal(err)
		}
	}
	bad := w
	bad.PatternType = acl.PatternMatch
	for _, rec := range []Record{
		{Type: RecACLs, DeleteACLs: []acl.Binding{w}}, // absent
		{Type: RecACLs, AddACLs: []acl.Binding{bad}},  // not storable
		{Type: RecACLs}, // no change
	} {
		if err := s.Commit(rec); err == nil {
			t.Fatalf("commit of %+v accepted", rec)
		}
	}
	s.Close()

	wantVersions(t, fsys, 1, 3, 3, 3)
	s = reopen(t, fsys)
	s.Read(func(st *State) {
		if got, want := st.ACLs(), []acl.Binding{r, d}; !slices.Equal(got, want) {
			t.Fatalf("ACLs %v, want %v", got, want)
		}
		if c := st.Clone(); !slices.Equal(c.ACLs(), st.ACLs()) {
			t.Fatalf("clone lost ACLs: %v", c.ACLs())
		}
	})
}

// A version-2 record claiming the ACL type is damage, not data.
func TestACLRecordOlderVersionRefused(t *testing.T) {
	payload, _ := json.Marshal(Record{Version: 2, Type: RecACLs, AddACLs: []acl.Binding{binding("t", acl.OpRead)}})
	var r Record
	if err := json.Unmarshal(payload, &r); err != nil {
		t.Fatal(err)
	}
	if err := NewState().Apply(r); err == nil {
		t.Fatal("a version-2 ACL record was applied")
	}
}
