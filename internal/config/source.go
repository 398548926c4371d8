package config

import "fmt"

// Origin is the kind of place a value came from, in rising precedence.
type Origin int

const (
	FromDefault Origin = iota
	FromFile
	FromEnv
	FromFlag
)

// Source is where a value came from: the default, a file's line, an
// environment variable or a flag.
type Source struct {
	Origin Origin
	Name   string // the file, the variable or the flag (with --)
	Line   int    // in the file
}

// String is how messages and --print-config name a source:
// "default", "sluice.properties:3", "env SLUICE_NODE_ID", "flag --node-id".
func (s Source) String() string {
	switch s.Origin {
	case FromFile:
		return fmt.Sprintf("%s:%d", s.Name, s.Line)
	case FromEnv:
		return "env " + s.Name
	case FromFlag:
		return "flag " + s.Name
	}
	return "default"
}

// Error is a bad setting: its name, the value given, where it was given
// and why it is bad.
type Error struct {
	Name, Value string
	Source      Source
	Why         string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s=%s (%s): %s", e.Name, e.Value, e.Source, e.Why)
}
