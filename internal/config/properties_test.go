package config

import (
	"reflect"
	"testing"
)

func TestParseProperties(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []entry
	}{
		{"separators", "a=1\nb: 2\nc 3\nd\t=\t4\ne   :5\n", []entry{
			{"a", "1", 1}, {"b", "2", 2}, {"c", "3", 3}, {"d", "4", 4}, {"e", "5", 5}}},
		{"comments and blank lines", "# one\n! two\n   # three\n\n \t \na=1\n", []entry{{"a", "1", 6}}},
		{"no value", "a\nb=\nc:\n", []entry{{"a", "", 1}, {"b", "", 2}, {"c", "", 3}}},
		{"only the first separator splits", "a=b=c\nd:e:f\n", []entry{{"a", "b=c", 1}, {"d", "e:f", 2}}},
		{"trailing blanks are the value's", "a=1  \n", []entry{{"a", "1  ", 1}}},
		{"continuation drops the next line's leading blanks", "a=one,\\\n    two,\\\n\tthree\nb=2\n", []entry{
			{"a", "one,two,three", 1}, {"b", "2", 4}}},
		{"an even count of backslashes does not continue", "a=x\\\\\nb=2\n", []entry{{"a", `x\`, 1}, {"b", "2", 2}}},
		{"continuation at the end of the input", "a=x\\", []entry{{"a", "x", 1}}},
		{"a comment does not continue", "# c \\\na=1\n", []entry{{"a", "1", 2}}},
		{"continued key", "log.re\\\n  tention.ms=5\n", []entry{{"log.retention.ms", "5", 1}}},
		{"escapes", `a=\t\n\r\f\\\=\:\#\q` + "\n", []entry{{"a", "\t\n\r\f\\=:#q", 1}}},
		{"escaped separators in a key", `a\=b\:c\ d=1` + "\n", []entry{{"a=b:c d", "1", 1}}},
		{"unicode escapes", `a=\u00e9\u20AC\uD83D\uDE00` + "\n", []entry{{"a", "é€😀", 1}}},
		{"UTF-8 as it is", "a=é\n", []entry{{"a", "é", 1}}},
		{"CR and CRLF line ends", "a=1\r\nb=2\rc=3", []entry{{"a", "1", 1}, {"b", "2", 2}, {"c", "3", 3}}},
		{"escaped leading blank of a value", `a=\ x` + "\n", []entry{{"a", " x", 1}}},
		{"empty input", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProperties("f", tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParsePropertiesErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a=1\nb=\\u12\n", `f:2: malformed \uXXXX escape`},
		{"a=1\n\nb=\\u12zz\n", `f:3: malformed \uXXXX escape "\\u12zz"`},
		{"a=\xff\n", "f: not UTF-8 text"},
	} {
		_, err := parseProperties("f", tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: error %v, want %s", tc.in, err, tc.want)
		}
	}
}

// Every value Print may write reads back the same.
func TestEscapeValueRoundTrip(t *testing.T) {
	for _, v := range []string{"", "plain", " lead", "back\\slash", "tab\tnl\ncr\rff\f", "a=b:c #d !e", "é", `\u0041`} {
		got, err := parseProperties("f", "k="+escapeValue(v)+"\n")
		if err != nil || len(got) != 1 || got[0].value != v {
			t.Errorf("%q: read back %+v, %v", v, got, err)
		}
	}
}
