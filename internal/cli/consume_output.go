package cli

// How `sluice consume` prints a record:
//
//   - text: the value and a newline.
//   - kv: key, separator, value (the input `sluice produce --format kv`
//     reads).
//   - json: one object a line with topic, partition, offset, timestamp
//     (Unix milliseconds), key, value and headers (the input `sluice
//     produce --format json` reads). A key or value that is not UTF-8 is
//     printed base64-encoded as key_base64 or value_base64 instead; a
//     null key or value is null.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

var outputFormats = []string{"text", "kv", "json"}

type recordWriter struct {
	w      *bufio.Writer
	format string
	sep    []byte
	enc    *json.Encoder
}

func newRecordWriter(w io.Writer, format string, sep []byte) *recordWriter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // values print as they are: <, > and & too
	return &recordWriter{w: bw, format: format, sep: sep, enc: enc}
}

// write prints the records; flush makes them reach the output.
func (rw *recordWriter) write(recs []*kgo.Record) error {
	for _, r := range recs {
		if err := rw.one(r); err != nil {
			return err
		}
	}
	return nil
}

func (rw *recordWriter) flush() error { return rw.w.Flush() }

func (rw *recordWriter) one(r *kgo.Record) error {
	switch rw.format {
	case "json":
		return rw.enc.Encode(toJSON(r))
	case "kv":
		rw.w.Write(r.Key)
		rw.w.Write(rw.sep)
	}
	rw.w.Write(r.Value)
	return rw.w.WriteByte('\n')
}

type jsonOut struct {
	Topic       string          `json:"topic"`
	Partition   int32           `json:"partition"`
	Offset      int64           `json:"offset"`
	Timestamp   int64           `json:"timestamp"`
	Key         json.RawMessage `json:"key,omitempty"`
	KeyBase64   string          `json:"key_base64,omitempty"`
	Value       json.RawMessage `json:"value,omitempty"`
	ValueBase64 string          `json:"value_base64,omitempty"`
	Headers     []jsonHeaderOut `json:"headers"`
}

type jsonHeaderOut struct {
	Key         string          `json:"key"`
	Value       json.RawMessage `json:"value,omitempty"`
	ValueBase64 string          `json:"value_base64,omitempty"`
}

func toJSON(r *kgo.Record) jsonOut {
	out := jsonOut{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli(), Headers: []jsonHeaderOut{}}
	out.Key, out.KeyBase64 = jsonField(r.Key)
	out.Value, out.ValueBase64 = jsonField(r.Value)
	for _, h := range r.Headers {
		jh := jsonHeaderOut{Key: h.Key}
		jh.Value, jh.ValueBase64 = jsonField(h.Value)
		out.Headers = append(out.Headers, jh)
	}
	return out
}

// jsonField is b as a JSON string, null for nil, or else (not UTF-8) its
// base64 for the _base64 field.
func jsonField(b []byte) (json.RawMessage, string) {
	switch {
	case b == nil:
		return json.RawMessage("null"), ""
	case utf8.Valid(b):
		return jsonString(string(b)), ""
	}
	return nil, base64.StdEncoding.EncodeToString(b)
}

// jsonString quotes s as JSON, leaving <, > and & as they are (json.Marshal
// would escape them for HTML).
func jsonString(s string) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
