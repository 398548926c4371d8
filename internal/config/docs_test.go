package config

import (
	"os"
	"strings"
	"testing"
)

// docs/operations.md has a row for every setting with its variable, flag
// and default as they are.
func TestDocsListEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	rows := 0
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| `") && strings.Contains(line, "| `SLUICE_") {
			rows++
		}
	}
	if rows != len(settings) {
		t.Errorf("the settings table has %d rows, there are %d settings", rows, len(settings))
	}
	for _, s := range Settings() {
		flag, def := "—", "`"+s.Default+"`"
		if s.Flag != "" {
			flag = "`--" + s.Flag + "`"
		}
		if s.Default == "" {
			def = "not set"
		}
		row := "| `" + s.Name + "` | `" + s.Env() + "` | " + flag + " | " + def + " | "
		if !strings.Contains(doc, row) {
			t.Errorf("docs/operations.md lacks the row %s", row)
		}
	}
}
