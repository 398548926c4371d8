package cli

// What `sluice produce` reads: one record per line, in one of three
// formats, from files or stdin.
//
//   - text: the line is the value; no key.
//   - kv: key, separator, value; the first separator splits.
//   - json: an object with "key", "value", "headers" and "timestamp", the
//     shape `sluice consume --format json` prints, so its output can be
//     produced again. Other fields (topic, partition, offset) are ignored.
//
// A line ends at "\n"; a "\r" before it is dropped too, for files written
// on Windows.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var inputFormats = []string{"text", "kv", "json"}

// recordInput reads records from a list of files in turn ("-": stdin).
type recordInput struct {
	format string
	sep    []byte
	files  []string
	stdin  io.Reader

	name string // of the file being read, for errors
	line int
	r    *bufio.Reader
	f    io.Closer
}

// next returns the next record, io.EOF after the last one, or an error
// that names the file and line.
func (in *recordInput) next() (*kgo.Record, error) {
	for {
		if in.r == nil {
			if err := in.open(); err != nil {
				return nil, err
			}
		}
		line, err := in.r.ReadBytes('\n')
		if len(line) > 0 {
			in.line++
			rec, perr := in.parse(trimEOL(line))
			if perr != nil {
				return nil, fmt.Errorf("%s:%d: %v", in.name, in.line, perr)
			}
			if rec != nil {
				return rec, nil
			}
			continue
		}
		if err != io.EOF {
			return nil, fmt.Errorf("read %s: %w", in.name, err)
		}
		in.closeFile()
	}
}

// open moves on to the next file.
func (in *recordInput) open() error {
	if len(in.files) == 0 {
		return io.EOF
	}
	in.name, in.files, in.line = in.files[0], in.files[1:], 0
	if in.name == "-" {
		in.name, in.r = "stdin", bufio.NewReader(in.stdin)
		return nil
	}
	f, err := os.Open(in.name)
	if err != nil {
		return err
	}
	in.r, in.f = bufio.NewReader(f), f
	return nil
}

func (in *recordInput) closeFile() {
	if in.f != nil {
		in.f.Close()
	}
	in.r, in.f = nil, nil
}

func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}

// parse makes a record of one line; nil for a line that holds none (a
// blank line in JSON input).
func (in *recordInput) parse(line []byte) (*kgo.Record, error) {
	switch in.format {
	case "kv":
		k, v, ok := bytes.Cut(line, in.sep)
		if !ok {
			return nil, fmt.Errorf("no separator %q in the line (--format kv)", in.sep)
		}
		return &kgo.Record{Key: k, Value: v}, nil
	case "json":
		if len(bytes.TrimSpace(line)) == 0 {
			return nil, nil
		}
		return parseJSONRecord(line)
	}
	return &kgo.Record{Value: line}, nil
}

// jsonRecord is a record as JSON. Key and value are strings; any other
// JSON value is taken as its text; null is no key or a null value (a
// tombstone). Bytes that are not UTF-8 travel in key_base64/value_base64.
// Headers are [{"key": ..., "value": ...}] (order and repeats kept) or an
// object. The timestamp is in Unix milliseconds.
type jsonRecord struct {
	Key         json.RawMessage `json:"key"`
	KeyBase64   *string         `json:"key_base64"`
	Value       json.RawMessage `json:"value"`
	ValueBase64 *string         `json:"value_base64"`
	Headers     json.RawMessage `json:"headers"`
	Timestamp   *int64          `json:"timestamp"`
}

type jsonHeader struct {
	Key         string          `json:"key"`
	Value       json.RawMessage `json:"value"`
	ValueBase64 *string         `json:"value_base64"`
}

func parseJSONRecord(line []byte) (*kgo.Record, error) {
	var j jsonRecord
	if err := json.Unmarshal(line, &j); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v (--format json)", err)
	}
	rec := &kgo.Record{}
	var err error
	if rec.Key, err = jsonBytes("key", j.Key, j.KeyBase64); err != nil {
		return nil, err
	}
	if rec.Value, err = jsonBytes("value", j.Value, j.ValueBase64); err != nil {
		return nil, err
	}
	if rec.Headers, err = jsonHeaders(j.Headers); err != nil {
		return nil, err
	}
	if j.Timestamp != nil {
		rec.Timestamp = time.UnixMilli(*j.Timestamp)
	}
	return rec, nil
}

// jsonBytes reads a key or value: a string as its bytes, null or absent as
// nil, other JSON as its compact text, or base64 from the _base64 field.
func jsonBytes(field string, raw json.RawMessage, b64 *string) ([]byte, error) {
	if b64 != nil {
		if len(raw) > 0 {
			return nil, fmt.Errorf("both %s and %s_base64", field, field)
		}
		b, err := base64.StdEncoding.DecodeString(*b64)
		if err != nil {
			return nil, fmt.Errorf("%s_base64: %v", field, err)
		}
		return b, nil
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []byte(s), nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, fmt.Errorf("%s: %v", field, err)
	}
	return compact.Bytes(), nil
}

func jsonHeaders(raw json.RawMessage) ([]kgo.RecordHeader, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []jsonHeader
	if err := json.Unmarshal(raw, &list); err != nil {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil, errors.New(`headers: want [{"key": ..., "value": ...}] or {"key": "value"}`)
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			list = append(list, jsonHeader{Key: k, Value: obj[k]})
		}
	}
	hs := make([]kgo.RecordHeader, len(list))
	for i, h := range list {
		v, err := jsonBytes("headers."+h.Key, h.Value, h.ValueBase64)
		if err != nil {
			return nil, err
		}
		hs[i] = kgo.RecordHeader{Key: h.Key, Value: v}
	}
	return hs, nil
}

// parseSeparator reads --separator; the two characters \t stand for a tab,
// which is awkward to type.
func parseSeparator(s string) ([]byte, error) {
	s = strings.ReplaceAll(s, `\t`, "\t")
	if s == "" {
		return nil, errors.New("--separator is empty")
	}
	return []byte(s), nil
}

// inputItem is a record read, or the error that ended the input (io.EOF
// at its end).
type inputItem struct {
	rec *kgo.Record
	err error
}

// stream reads records in a goroutine, so that a command waiting for a
// line from a terminal or a pipe still notices an interrupt. The goroutine
// ends after the input does, or when done is closed.
func (in *recordInput) stream(done <-chan struct{}) <-chan inputItem {
	ch := make(chan inputItem, 256)
	go func() {
		defer in.closeFile()
		for {
			rec, err := in.next()
			select {
			case ch <- inputItem{rec, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}
