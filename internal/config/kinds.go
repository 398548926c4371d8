package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"sluice/internal/metadata"
	"sluice/internal/sasl"
	"sluice/internal/tlsconf"
)

// kind is the type of a setting's value: how a value in the file's form
// (also the environment's) is checked, and how a flag's value, which may
// be written differently (a Go duration such as 5m), becomes that form.
type kind interface {
	// check returns the value in its canonical form, or why it is bad.
	check(v string) (string, error)
	// fromFlag turns a flag's value into the file's form.
	fromFlag(v string) (string, error)
	// flagDefault writes a default in the flag's form, for -h.
	flagDefault(def string) string
	// isBool: the flag takes no value (--auto-create-topics).
	isBool() bool
}

// integer is a whole number in [lo, hi], or one of also. what names the
// quantity in messages ("an integer", "a number of bytes").
type integer struct {
	what   string
	lo, hi int64
	also   []int64
	note   string // said after a range error: why the range is what it is
}

func (k integer) check(v string) (string, error) {
	n, err := parseNum(v, k.what)
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(n, 10), inRange(n, k.lo, k.hi, k.also, k.note)
}

func (k integer) fromFlag(v string) (string, error) { return v, nil }
func (k integer) flagDefault(def string) string     { return def }
func (k integer) isBool() bool                      { return false }

// parseNum reads a decimal integer; what names the quantity for the error.
func parseNum(v, what string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("too large for a 64-bit integer")
	}
	if err != nil {
		return 0, fmt.Errorf("not %s", what)
	}
	return n, nil
}

// inRange says why n is outside [lo, hi] and not one of also.
func inRange(n, lo, hi int64, also []int64, note string) error {
	if n >= lo && n <= hi {
		return nil
	}
	for _, a := range also {
		if n == a {
			return nil
		}
	}
	var why string
	switch {
	case lo == hi:
		why = fmt.Sprintf("must be %d", lo)
	case n < lo && hi >= math.MaxInt32: // the upper bound is no news to anyone below the lower
		why = fmt.Sprintf("must be at least %d", lo)
	default:
		why = fmt.Sprintf("must be between %d and %d", lo, hi)
	}
	if len(also) > 0 {
		alts := make([]string, len(also))
		for i, a := range also {
			alts[i] = strconv.FormatInt(a, 10)
		}
		why = strings.Replace(why, "must be ", "must be "+strings.Join(alts, ", ")+" or ", 1)
	}
	if note != "" {
		why += "; " + note
	}
	return fmt.Errorf("%s", why)
}

// duration is a whole number of unit (milliseconds, minutes or hours, as
// Kafka's name says) in [lo, hi] or one of also. A flag gives a Go
// duration instead (--offsets-retention 168h), which must be a whole
// number of unit.
type duration struct {
	unit   time.Duration
	lo, hi int64
	also   []int64
	// negativeFlag, if not empty, is the value a negative flag duration
	// stands for (the flags said "negative: none" before there were files).
	negativeFlag string
}

func (k duration) word() string {
	switch k.unit {
	case time.Millisecond:
		return "milliseconds"
	case time.Minute:
		return "minutes"
	}
	return "hours"
}

func (k duration) check(v string) (string, error) {
	n, err := parseNum(v, "a number of "+k.word())
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(n, 10), inRange(n, k.lo, k.hi, k.also, "")
}

func (k duration) fromFlag(v string) (string, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return "", fmt.Errorf("not a duration such as 1500ms, 30s or 168h")
	}
	if d < 0 && k.negativeFlag != "" {
		return k.negativeFlag, nil
	}
	if d%k.unit != 0 {
		return "", fmt.Errorf("not a whole number of %s", k.word())
	}
	return strconv.FormatInt(int64(d/k.unit), 10), nil
}

// flagDefault writes the default as a short Go duration: 168h, 5m, 1s.
func (k duration) flagDefault(def string) string {
	n, err := strconv.ParseInt(def, 10, 64)
	if err != nil {
		return def
	}
	s := (time.Duration(n) * k.unit).String() // 168h0m0s, 5m0s, 1s
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func (k duration) isBool() bool { return false }

// boolean is true or false, in any case as Kafka reads it; a flag also
// takes Go's forms (1, t, TRUE, ...) and no value at all.
type boolean struct{}

func (boolean) check(v string) (string, error) {
	switch strings.ToLower(v) {
	case "true":
		return "true", nil
	case "false":
		return "false", nil
	}
	return "", fmt.Errorf("not true or false")
}

func (boolean) fromFlag(v string) (string, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return "", fmt.Errorf("not true or false")
	}
	return strconv.FormatBool(b), nil
}

func (boolean) flagDefault(def string) string {
	if def == "false" {
		return "" // the flag package shows no default for an unset switch
	}
	return def
}

func (boolean) isBool() bool { return true }

// enum is one of a few words, in any case; the canonical form is the
// listed one.
type enum []string

func (k enum) check(v string) (string, error) {
	for _, w := range k {
		if strings.EqualFold(v, w) {
			return w, nil
		}
	}
	return "", fmt.Errorf("must be one of %s", strings.Join(k, ", "))
}

func (k enum) fromFlag(v string) (string, error) { return v, nil }
func (k enum) flagDefault(def string) string     { return def }
func (k enum) isBool() bool                      { return false }

// mechanisms is a comma-separated list of SASL mechanisms Sluice knows,
// each once.
type mechanisms struct{}

func (mechanisms) check(v string) (string, error) {
	var out []string
	for _, m := range strings.Split(v, ",") {
		m = strings.ToUpper(strings.TrimSpace(m))
		if !slices.Contains(sasl.Known, m) {
			return "", fmt.Errorf("%q is not a SASL mechanism Sluice has: %s", m, strings.Join(sasl.Known, ", "))
		}
		if slices.Contains(out, m) {
			return "", fmt.Errorf("%s is listed twice", m)
		}
		out = append(out, m)
	}
	return strings.Join(out, ","), nil
}

func (mechanisms) fromFlag(v string) (string, error) { return v, nil }
func (mechanisms) flagDefault(def string) string     { return def }
func (mechanisms) isBool() bool                      { return false }

// usersFile is a file of PLAIN users, read when the setting is checked so
// that --check-config finds a bad one.
type usersFile struct{}

func (usersFile) check(v string) (string, error) {
	if _, err := sasl.ReadPlainUsers(v); err != nil {
		return "", err
	}
	return v, nil
}

func (usersFile) fromFlag(v string) (string, error) { return v, nil }
func (usersFile) flagDefault(def string) string     { return def }
func (usersFile) isBool() bool                      { return false }

// principals is a semicolon-separated list of principals (super.users:
// "User:admin;User:ops"), each of the form type:name, without blanks.
type principals struct{}

func (principals) check(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	var out []string
	for _, p := range strings.Split(v, ";") {
		p = strings.TrimSpace(p)
		if i := strings.IndexByte(p, ':'); i <= 0 || i == len(p)-1 {
			return "", fmt.Errorf("%q is not a principal of the form User:name", p)
		}
		out = append(out, p)
	}
	return strings.Join(out, ";"), nil
}

func (principals) fromFlag(v string) (string, error) { return v, nil }
func (principals) flagDefault(def string) string     { return def }
func (principals) isBool() bool                      { return false }

// address is host:port. A listening address may leave the host out (every
// interface) and take port 0 (any free port); an advertised one may not.
type address struct{ listening bool }

func (k address) check(v string) (string, error) {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", fmt.Errorf("not host:port")
	}
	p, err := strconv.Atoi(port)
	lo := 1
	if k.listening {
		lo = 0
	}
	if err != nil || p < lo || p > 65535 {
		return "", fmt.Errorf("port %q is not a number between %d and 65535", port, lo)
	}
	if host == "" && !k.listening {
		return "", fmt.Errorf("no host: clients need one to connect to")
	}
	return v, nil
}

func (k address) fromFlag(v string) (string, error) { return v, nil }
func (k address) flagDefault(def string) string     { return def }
func (k address) isBool() bool                      { return false }

// directory is one path. Kafka's log.dirs is a list; Sluice keeps one
// data directory, so a comma is refused rather than read as part of a name.
type directory struct{}

func (directory) check(v string) (string, error) {
	if strings.Contains(v, ",") {
		return "", fmt.Errorf("Sluice keeps one data directory: give one path, not a list")
	}
	return v, nil
}

func (directory) fromFlag(v string) (string, error) { return v, nil }
func (directory) flagDefault(def string) string     { return def }
func (directory) isBool() bool                      { return false }

// topicValue is checked as the topic config it defaults is checked, for
// the values whose form is the topic's own (cleanup.policy's list, a
// ratio, a timestamp type).
type topicValue string

func (k topicValue) check(v string) (string, error) {
	return v, metadata.CheckValue(string(k), v)
}

func (k topicValue) fromFlag(v string) (string, error) { return v, nil }
func (k topicValue) flagDefault(def string) string     { return def }
func (k topicValue) isBool() bool                      { return false }

// listenerList is Kafka's listeners form: NAME://host:port, comma-
// separated, each name once. A name is letters, digits and underscores,
// upper-cased as Kafka does. Listening addresses may leave the host out
// and take port 0; advertised ones (advertised.listeners) may not.
type listenerList struct{ advertised bool }

// listenerAddr is one entry of a listener list.
type listenerAddr struct{ name, addr string }

func parseListeners(v string, advertised bool) ([]listenerAddr, error) {
	var out []listenerAddr
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		name, addr, ok := strings.Cut(e, "://")
		if !ok {
			return nil, fmt.Errorf("%q is not NAME://host:port", e)
		}
		name = strings.ToUpper(name)
		if !validListenerName(name) {
			return nil, fmt.Errorf("listener name %q: use letters, digits and underscores", name)
		}
		if _, err := (address{listening: !advertised}).check(addr); err != nil {
			return nil, fmt.Errorf("listener %s: %w", name, err)
		}
		if slices.ContainsFunc(out, func(l listenerAddr) bool { return l.name == name }) {
			return nil, fmt.Errorf("listener %s is listed twice", name)
		}
		out = append(out, listenerAddr{name, addr})
	}
	return out, nil
}

func validListenerName(n string) bool {
	if n == "" {
		return false
	}
	for _, r := range n {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func (k listenerList) check(v string) (string, error) {
	ls, err := parseListeners(v, k.advertised)
	if err != nil {
		return "", err
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.name + "://" + l.addr
	}
	return strings.Join(parts, ","), nil
}

func (listenerList) fromFlag(v string) (string, error) { return v, nil }
func (listenerList) flagDefault(def string) string     { return def }
func (listenerList) isBool() bool                      { return false }

// protocols are the security protocols a listener may have.
var protocols = []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

// protocolMap is listener.security.protocol.map: NAME:PROTOCOL,
// comma-separated, each name once.
type protocolMap struct{}

func parseProtocolMap(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, e := range strings.Split(v, ",") {
		name, proto, ok := strings.Cut(strings.TrimSpace(e), ":")
		name, proto = strings.ToUpper(strings.TrimSpace(name)), strings.ToUpper(strings.TrimSpace(proto))
		if !ok || !validListenerName(name) {
			return nil, fmt.Errorf("%q is not NAME:PROTOCOL", e)
		}
		if !slices.Contains(protocols, proto) {
			return nil, fmt.Errorf("listener %s: %q is not a security protocol: %s", name, proto, strings.Join(protocols, ", "))
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("listener %s is mapped twice", name)
		}
		out[name] = proto
	}
	return out, nil
}

func (protocolMap) check(v string) (string, error) {
	m, err := parseProtocolMap(v)
	if err != nil {
		return "", err
	}
	// Canonical: upper case without blanks, in the order given.
	var parts []string
	for _, e := range strings.Split(v, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(e), ":")
		name = strings.ToUpper(strings.TrimSpace(name))
		parts = append(parts, name+":"+m[name])
	}
	return strings.Join(parts, ","), nil
}

func (protocolMap) fromFlag(v string) (string, error) { return v, nil }
func (protocolMap) flagDefault(def string) string     { return def }
func (protocolMap) isBool() bool                      { return false }

// pemFile is a keystore (certificate chain and private key) or a
// truststore (certificates), read when the setting is checked so that
// --check-config finds a bad one.
type pemFile struct{ keystore bool }

func (k pemFile) check(v string) (string, error) {
	var err error
	if k.keystore {
		_, err = tlsconf.ReadKeyPair(v)
	} else {
		_, err = tlsconf.ReadCertPool(v)
	}
	if err != nil {
		return "", err
	}
	return v, nil
}

func (pemFile) fromFlag(v string) (string, error) { return v, nil }
func (pemFile) flagDefault(def string) string     { return def }
func (pemFile) isBool() bool                      { return false }
