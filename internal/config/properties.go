package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// entry is one key and value of a properties file, with the line its key
// is on, so that a bad setting can be pointed at.
type entry struct {
	key, value string
	line       int
}

// parseProperties reads the format of Kafka's server.properties (Java's
// Properties.load): "#" and "!" comment lines, "key=value", "key: value"
// or "key value", a backslash at the end of a line continuing it on the
// next (whose leading blanks are dropped), and the escapes \t \n \r \f
// \uXXXX, a backslash before any other character standing for that
// character. The text must be UTF-8 (Java reads Latin-1; the files hold
// ASCII in practice). name is the file's name in errors.
func parseProperties(name string, text string) ([]entry, error) {
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("%s: not UTF-8 text", name)
	}
	lines := naturalLines(text)
	var out []entry
	for i := 0; i < len(lines); i++ {
		first := i
		l := strings.TrimLeft(lines[i], blanks)
		if l == "" || l[0] == '#' || l[0] == '!' {
			continue // comment lines never continue
		}
		// Join continued lines: an odd number of trailing backslashes
		// escapes the line end.
		for continued(l) && i+1 < len(lines) {
			i++
			l = l[:len(l)-1] + strings.TrimLeft(lines[i], blanks)
		}
		if continued(l) {
			l = l[:len(l)-1] // Java drops a continuation at the end of the input
		}
		k, v := splitKeyValue(l)
		key, err := unescape(k)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, first+1, err)
		}
		value, err := unescape(v)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, first+1, err)
		}
		out = append(out, entry{key: key, value: value, line: first + 1})
	}
	return out, nil
}

// blanks are the white space of the properties format.
const blanks = " \t\f"

// naturalLines splits at \n, \r or \r\n, as Java does.
func naturalLines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

func continued(l string) bool {
	n := len(l) - len(strings.TrimRight(l, `\`))
	return n%2 == 1
}

// splitKeyValue splits a logical line (no leading blanks) at the first
// unescaped '=', ':' or blank; blanks around the separator, and one '=' or
// ':' after blanks, belong to neither side. Escapes are kept for unescape.
func splitKeyValue(l string) (key, value string) {
	end := len(l)
	for i := 0; i < len(l); i++ {
		if l[i] == '\\' {
			i++
			continue
		}
		if l[i] == '=' || l[i] == ':' || strings.IndexByte(blanks, l[i]) >= 0 {
			end = i
			break
		}
	}
	key, rest := l[:end], l[end:]
	rest = strings.TrimLeft(rest, blanks)
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], blanks)
	}
	return key, rest
}

// unescape resolves the format's backslash escapes. A \uXXXX pair that
// spells a UTF-16 surrogate pair becomes the one character it encodes.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	var high rune // a pending high surrogate from the previous \u escape
	flush := func() {
		if high != 0 {
			b.WriteRune(utf8.RuneError)
			high = 0
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			flush()
			b.WriteByte(c)
			continue
		}
		i++
		if s[i] != 'u' {
			flush()
			writeEscaped(&b, s[i])
			continue
		}
		if i+5 > len(s) {
			return "", fmt.Errorf(`malformed \uXXXX escape`)
		}
		n, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
		if err != nil {
			return "", fmt.Errorf(`malformed \uXXXX escape %q`, s[i-1:i+5])
		}
		i += 4
		r := rune(n)
		switch {
		case utf16.IsSurrogate(r) && r < 0xdc00:
			flush()
			high = r
		case utf16.IsSurrogate(r) && high != 0:
			b.WriteRune(utf16.DecodeRune(high, r))
			high = 0
		default:
			flush()
			b.WriteRune(r)
		}
	}
	flush()
	return b.String(), nil
}

// writeEscaped writes what a backslash before c stands for. A byte of a
// multi-byte character is written as it is, the rest follows unescaped.
func writeEscaped(b *strings.Builder, c byte) {
	switch c {
	case 't':
		b.WriteByte('\t')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 'f':
		b.WriteByte('\f')
	default:
		b.WriteByte(c)
	}
}

// escapeValue writes a value so that parseProperties reads it back
// unchanged: backslashes and control characters escaped, and a leading
// blank kept by escaping it.
func escapeValue(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == ' ' && i == 0:
			b.WriteString(`\ `)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
