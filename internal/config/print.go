package config

import (
	"bufio"
	"io"
)

// Print writes every setting in the properties format, sorted by name,
// each after a comment naming its source, so that the output can be read
// back with --config. An optional setting that is not set is written with
// an empty value, which reads back as not set.
func (c *Config) Print(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("# The effective settings of sluice serve. Above each, where its value came\n" +
		"# from: default, FILE:LINE, env VARIABLE or flag --FLAG.\n")
	for _, v := range c.Values() {
		bw.WriteString("# " + v.Source.String() + "\n")
		bw.WriteString(v.Setting.Name + "=" + escapeValue(v.Value) + "\n")
	}
	return bw.Flush()
}
