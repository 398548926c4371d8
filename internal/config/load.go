package config

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"sluice/internal/broker"
	"sluice/internal/tlsconf"
)

// Inputs are the sources read besides the defaults, in rising precedence.
type Inputs struct {
	File    string   // a properties file, "" for none
	Environ []string // KEY=VALUE, as os.Environ gives them
	Flags   *Flags   // after the flag set was parsed; nil for none
}

// Config is the effective settings: every setting's value and its source.
type Config struct {
	values map[string]Value
}

// Value is a setting's effective value, in the file's form ("" for an
// optional setting that is not set), and where it came from.
type Value struct {
	Setting *Setting
	Value   string
	Source  Source
}

// clientEnv are SLUICE_ variables that the client commands read; serve
// leaves them alone rather than calling them unknown settings.
var clientEnv = []string{"SLUICE_BROKERS", "SLUICE_SECURITY_PROTOCOL", "SLUICE_SASL_MECHANISM",
	"SLUICE_SASL_USERNAME", "SLUICE_SASL_PASSWORD"}

// Load reads the file, the environment and the flags over the defaults.
// It returns every problem it finds, not only the first: each bad value as
// an *Error, naming the setting, the value, its source and why; a file
// that cannot be read or parsed as a plain error.
func Load(in Inputs) (*Config, []error) {
	c := &Config{values: map[string]Value{}}
	for _, s := range settings {
		c.values[s.Name] = Value{Setting: s, Value: s.Default}
	}
	var errs []error
	if in.File != "" {
		errs = append(errs, c.readFile(in.File)...)
	}
	errs = append(errs, c.readEnv(in.Environ)...)
	in.Flags.given(func(s *Setting, flagName, raw string) {
		src := Source{Origin: FromFlag, Name: "--" + flagName}
		v, err := s.kind.fromFlag(strings.TrimSpace(raw))
		if err != nil {
			errs = append(errs, &Error{Name: s.Name, Value: raw, Source: src, Why: err.Error()})
			return
		}
		if e := c.set(s, v, src); e != nil {
			e.Value = raw // as the user wrote it, not as converted
			errs = append(errs, e)
		}
	})
	if len(errs) == 0 {
		errs = c.crossCheck()
	}
	return c, errs
}

func (c *Config) readFile(path string) []error {
	b, err := os.ReadFile(path)
	if err != nil {
		return []error{fmt.Errorf("config file: %w", err)}
	}
	entries, err := parseProperties(path, string(b))
	if err != nil {
		return []error{err}
	}
	var errs []error
	firstLine := map[string]int{}
	for _, e := range entries {
		src := Source{Origin: FromFile, Name: path, Line: e.line}
		s := lookup(e.key)
		switch {
		case s == nil:
			errs = append(errs, &Error{Name: e.key, Value: e.value, Source: src, Why: unknown(e.key, false)})
		case firstLine[e.key] != 0:
			// Java keeps the last silently; an edit to the first one
			// would then do nothing, which is what this refuses.
			errs = append(errs, &Error{Name: e.key, Value: e.value, Source: src,
				Why: fmt.Sprintf("set again (first on line %d): set each setting once", firstLine[e.key])})
		default:
			firstLine[e.key] = e.line
			if err := c.set(s, e.value, src); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

func (c *Config) readEnv(environ []string) []error {
	seen := map[string]bool{}
	var vars []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		// A name the environment holds twice: the first counts, as for
		// os.Getenv.
		if strings.HasPrefix(k, envPrefix) && !slices.Contains(clientEnv, k) && !seen[k] {
			seen[k] = true
			vars = append(vars, kv)
		}
	}
	slices.Sort(vars)
	var errs []error
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		src := Source{Origin: FromEnv, Name: k}
		name := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, envPrefix), "_", "."))
		s := lookup(name)
		if s == nil || s.Env() != k {
			errs = append(errs, &Error{Name: k, Value: v, Source: src, Why: unknown(name, true)})
			continue
		}
		if err := c.set(s, v, src); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// set checks a value (in the file's form) from a source and makes it the
// setting's value. Blanks around it do not count, as in Kafka.
func (c *Config) set(s *Setting, raw string, src Source) *Error {
	v := strings.TrimSpace(raw)
	bad := func(why string) *Error { return &Error{Name: s.Name, Value: raw, Source: src, Why: why} }
	if v == "" {
		if !s.Optional {
			return bad("empty: give a value (default " + s.Default + ")")
		}
	} else {
		canon, err := s.kind.check(v)
		if err != nil {
			return bad(err.Error())
		}
		v = canon
	}
	c.values[s.Name] = Value{Setting: s, Value: v, Source: src}
	return nil
}

// crossCheck finds settings that are each good but do not go together.
func (c *Config) crossCheck() []error {
	ls, err := c.listeners()
	if err != nil {
		return []error{err}
	}
	sasl, tls, ssl := false, false, false
	for _, l := range ls {
		sasl = sasl || l.Protocol == broker.SASLPlaintext || l.Protocol == broker.SASLSSL
		tls = tls || l.Protocol == broker.SSL || l.Protocol == broker.SASLSSL
		ssl = ssl || l.Protocol == broker.SSL
	}
	mechs, users := c.values["sasl.enabled.mechanisms"], c.values["sasl.plain.users.file"]
	if sasl && users.Value == "" && slices.Contains(strings.Split(mechs.Value, ","), "PLAIN") {
		return []error{&Error{Name: mechs.Setting.Name, Value: mechs.Value, Source: mechs.Source,
			Why: "PLAIN is enabled but sasl.plain.users.file names no users"}}
	}
	if ks := c.values["ssl.keystore.location"]; tls && ks.Value == "" {
		return []error{&Error{Name: ks.Setting.Name, Value: ks.Value, Source: ks.Source,
			Why: "not set, but a listener is SSL or SASL_SSL: name the PEM file of the broker's certificate and key"}}
	}
	auth, ts := c.values["ssl.client.auth"], c.values["ssl.truststore.location"]
	if ssl && auth.Value != tlsconf.ClientAuthNone && ts.Value == "" {
		return []error{&Error{Name: auth.Setting.Name, Value: auth.Value, Source: auth.Source,
			Why: "client certificates are asked for but ssl.truststore.location names no authorities to check them against"}}
	}
	lo, hi := c.values["group.min.session.timeout.ms"], c.values["group.max.session.timeout.ms"]
	if num(lo.Value) > num(hi.Value) {
		return []error{&Error{Name: lo.Setting.Name, Value: lo.Value, Source: lo.Source,
			Why: fmt.Sprintf("greater than group.max.session.timeout.ms=%s (%s)", hi.Value, hi.Source)}}
	}
	return nil
}

// listeners are the broker's listeners: listeners with each name's
// protocol from listener.security.protocol.map, or else the one on
// listen with listener.security.protocol; each advertising its entry in
// advertised.listeners, or else (the one on listen) advertise.
func (c *Config) listeners() ([]broker.Listener, error) {
	lv := c.values["listeners"]
	pm, _ := parseProtocolMap(c.values["listener.security.protocol.map"].Value) // checked
	var out []broker.Listener
	if lv.Value == "" {
		proto := c.values["listener.security.protocol"].Value
		out = append(out, broker.Listener{Name: proto, Protocol: proto, Listen: c.values["listen"].Value, Advertise: c.values["advertise"].Value})
	} else {
		for _, old := range []string{"listen", "advertise", "listener.security.protocol"} {
			if v := c.values[old]; v.Source.Origin != FromDefault {
				return nil, &Error{Name: old, Value: v.Value, Source: v.Source,
					Why: fmt.Sprintf("set together with listeners (%s): give every listener in listeners and advertised.listeners instead", lv.Source)}
			}
		}
		ls, _ := parseListeners(lv.Value, false) // checked
		for _, l := range ls {
			proto, ok := pm[l.name]
			if !ok {
				return nil, &Error{Name: lv.Setting.Name, Value: lv.Value, Source: lv.Source,
					Why: fmt.Sprintf("listener %s has no security protocol: name it after one (%s) or add %s:<protocol> to listener.security.protocol.map", l.name, strings.Join(protocols, ", "), l.name)}
			}
			out = append(out, broker.Listener{Name: l.name, Protocol: proto, Listen: l.addr})
		}
	}
	av := c.values["advertised.listeners"]
	if av.Value == "" {
		return out, nil
	}
	if adv := c.values["advertise"]; adv.Value != "" {
		return nil, &Error{Name: adv.Setting.Name, Value: adv.Value, Source: adv.Source,
			Why: fmt.Sprintf("set together with advertised.listeners (%s): give the address there", av.Source)}
	}
	as, _ := parseListeners(av.Value, true) // checked
	for _, a := range as {
		i := slices.IndexFunc(out, func(l broker.Listener) bool { return l.Name == a.name })
		if i < 0 {
			return nil, &Error{Name: av.Setting.Name, Value: av.Value, Source: av.Source,
				Why: fmt.Sprintf("listener %s is not one of the broker's listeners", a.name)}
		}
		out[i].Advertise = a.addr
	}
	return out, nil
}

// Get returns a setting's effective value; the name must be a setting's.
func (c *Config) Get(name string) Value { return c.values[name] }

// Values returns every setting's effective value, sorted by name.
func (c *Config) Values() []Value {
	var out []Value
	for _, s := range Settings() {
		out = append(out, c.values[s.Name])
	}
	return out
}
