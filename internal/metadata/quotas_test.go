package metadata

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"sluice/internal/quota"
	"sluice/internal/vfs"
)

func f64(v float64) *float64 { return &v }

func named(s string) *string { return &s }

// Client quotas are set, changed and removed, survive a reopen, and are
// written at record version 4; an entity whose last key is removed is
// forgotten.
func TestQuotasPersist(t *testing.T) {
	fsys := vfs.NewMem()
	s, err := OpenStore(fsys, testDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	user := []quota.Component{{Type: quota.TypeUser, Name: named("alice")}}
	defClient := []quota.Component{{Type: quota.TypeClientID}}
	for _, rec := range []Record{
		{Type: RecClusterID, ClusterID: "c"},
		{Type: RecQuotas, Quotas: []QuotaChange{
			{Entity: user, Values: map[string]*float64{quota.ProducerByteRate: f64(1024), quota.RequestPercentage: f64(50)}},
			{Entity: defClient, Values: map[string]*float64{quota.ConsumerByteRate: f64(2048)}},
		}},
		{Type: RecQuotas, Quotas: []QuotaChange{{Entity: user, Values: map[string]*float64{quota.ProducerByteRate: f64(4096), quota.RequestPercentage: nil}}}},
		{Type: RecQuotas, Quotas: []QuotaChange{{Entity: defClient, Values: map[string]*float64{quota.ConsumerByteRate: nil}}}},
	} {
		if err := s.Commit(rec); err != nil {
			t.Fatal(err)
		}
	}
	for _, rec := range []Record{
		{Type: RecQuotas}, // no change
		{Type: RecQuotas, Quotas: []QuotaChange{{Entity: defClient, Values: map[string]*float64{quota.ConsumerByteRate: nil}}}},                                                           // absent
		{Type: RecQuotas, Quotas: []QuotaChange{{Entity: user, Values: map[string]*float64{quota.ProducerByteRate: f64(1.5)}}}},                                                           // fractional
		{Type: RecQuotas, Quotas: []QuotaChange{{Entity: []quota.Component{{Type: "group"}}, Values: map[string]*float64{"x": f64(1)}}}},                                                  // bad entity
		{Type: RecQuotas, Quotas: []QuotaChange{{Entity: user, Values: map[string]*float64{quota.ProducerByteRate: f64(1)}}, {Entity: user, Values: map[string]*float64{"bad": f64(1)}}}}, // all or nothing
	} {
		if err := s.Commit(rec); err == nil {
			t.Fatalf("commit of %+v accepted", rec)
		}
	}
	s.Close()

	wantVersions(t, fsys, 1, 4, 4, 4)
	s = reopen(t, fsys)
	s.Read(func(st *State) {
		want := map[quota.Entity]map[string]float64{{User: quota.Named("alice")}: {quota.ProducerByteRate: 4096}}
		got := st.Quotas()
		if !maps.EqualFunc(got, want, func(a, b map[string]float64) bool { return maps.Equal(a, b) }) {
			t.Fatalf("quotas %v, want %v", got, want)
		}
		if c := st.Clone().Quotas(); len(c) != 1 {
			t.Fatalf("clone lost quotas: %v", c)
		}
	})
}

// A version-3 record claiming the quota type is damage, not data.
func TestQuotaRecordOlderVersionRefused(t *testing.T) {
	payload, _ := json.Marshal(Record{Version: 3, Type: RecQuotas, Quotas: []QuotaChange{{Entity: []quota.Component{{Type: quota.TypeUser}}, Values: map[string]*float64{quota.ProducerByteRate: f64(1)}}}})
	var r Record
	if err := json.Unmarshal(payload, &r); err != nil {
		t.Fatal(err)
	}
	if err := NewState().Apply(r); err == nil {
		t.Fatal("a version-3 quota record was applied")
	}
}

// wantVersions checks the version of every record in the catalog.
func wantVersions(t *testing.T, fsys vfs.FS, want ...int) {
	t.Helper()
	var versions []int
	if _, err := scan("t", readAll(t, fsys, testCatalog), func(r Record) error { versions = append(versions, r.Version); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(versions, want) {
		t.Fatalf("record versions %v, want %v", versions, want)
	}
}

// reopen opens the catalog again, closed at the end of the test.
func reopen(t *testing.T, fsys vfs.FS) *Store {
	t.Helper()
	s, err := OpenStore(fsys, testDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
