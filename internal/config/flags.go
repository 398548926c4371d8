package config

import "flag"

// Flags are the serve flags of the settings that have one. A flag keeps
// the text it was given; Load checks it with the other sources, so that
// every bad value is reported at once and in the same words.
type Flags struct {
	fs     *flag.FlagSet
	values map[string]*flagValue // by flag name
}

// RegisterFlags defines every setting's flag on fs.
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs, values: map[string]*flagValue{}}
	for _, s := range settings {
		if s.Flag == "" {
			continue
		}
		v := &flagValue{setting: s, def: s.kind.flagDefault(s.Default)}
		f.values[s.Flag] = v
		fs.Var(v, s.Flag, s.Usage+" ("+s.Name+placeholder(s.kind)+")")
	}
	return f
}

// given calls fn for every setting flag on the command line, in the flag
// package's order (by name), with the last text given for it.
func (f *Flags) given(fn func(s *Setting, flagName, raw string)) {
	if f == nil {
		return
	}
	f.fs.Visit(func(fl *flag.Flag) {
		if v, ok := f.values[fl.Name]; ok {
			fn(v.setting, fl.Name, v.raw)
		}
	})
}

// placeholder names what a flag takes, for -h: the flag package shows the
// back-quoted word after the flag's name.
func placeholder(k kind) string {
	switch k.(type) {
	case duration:
		return ", a `duration`" // the flag's form differs from the file's
	case integer:
		return ", a `number`"
	case address:
		return ", a `host:port`"
	case directory:
		return ", a `path`"
	}
	return ""
}

type flagValue struct {
	setting *Setting
	def     string // the default in the flag's form, shown by -h
	raw     string
}

func (v *flagValue) String() string {
	if v == nil {
		return ""
	}
	return v.def
}

func (v *flagValue) Set(s string) error { v.raw = s; return nil }

func (v *flagValue) IsBoolFlag() bool { return v.setting.kind.isBool() }
