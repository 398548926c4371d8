package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the actual output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

func TestPrint(t *testing.T) {
	wd, _ := os.Getwd()
	c, errs := load(t, sources{
		file:  "# a comment\nlog.dirs=/data/sluice dir\\\\x\nnum.partitions=2\nadvertise = broker.example:9092\n",
		env:   []string{"SLUICE_NUM_PARTITIONS=3", "SLUICE_LOG_RETENTION_MS=3600000"},
		flags: []string{"--listen", "127.0.0.1:9093", "--fsync-interval", "2s"},
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var out bytes.Buffer
	if err := c.Print(&out); err != nil {
		t.Fatal(err)
	}
	t.Chdir(wd)
	golden(t, "print.golden", out.Bytes())
}

// What Print writes, read back as a file, gives every value again.
func TestPrintReadsBack(t *testing.T) {
	c, errs := load(t, sources{
		file:  "log.dirs= /data/a\\\\b\\tc\nadvertise=h:1\n",
		flags: []string{"--offsets-retention", "1h", "--auto-create-topics"},
		env:   []string{"SLUICE_LOG_RETENTION_MINUTES=5"},
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var out bytes.Buffer
	if err := c.Print(&out); err != nil {
		t.Fatal(err)
	}
	again, errs := load(t, sources{file: out.String()})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, v := range c.Values() {
		if w := again.Get(v.Setting.Name); w.Value != v.Value || w.Source.Origin != FromFile {
			t.Errorf("%s: %q from %s, read back %q from %s", v.Setting.Name, v.Value, v.Source, w.Value, w.Source)
		}
	}
}
