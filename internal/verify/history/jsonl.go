package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// maxLine bounds one line: a poll of many partitions is one line, and a
// line past this is damage, not a poll.
const maxLine = 64 << 20

// Writer appends operations to a history file as JSON lines. It is safe
// for concurrent use (a producer's callbacks run on several goroutines).
type Writer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriter writes to w, typically a file opened with O_APPEND.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Append validates op and writes it as one line with a single Write call:
// a process killed by SIGKILL stops between writes, never inside one, so
// the file never ends in half a line and the reader can refuse any damaged
// line instead of guessing which damage a crash may leave.
func (w *Writer) Append(op Op) error {
	if err := op.Validate(); err != nil {
		return fmt.Errorf("history: refusing to write %s: %w", op.Kind, err)
	}
	op.Time = op.Time.UTC()
	if !op.End.IsZero() {
		op.End = op.End.UTC()
	}
	line, err := json.Marshal(op)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err = w.w.Write(append(line, '\n'))
	return err
}

// LineError is a line the reader refused.
type LineError struct {
	File string // empty when reading from a stream
	Line int    // 1-based
	Err  error
}

func (e *LineError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Read reads a history written by Writer. It refuses the first line that
// is not one valid op (bad JSON, an unknown field, an op that fails
// Validate, a blank line) with a *LineError naming the line.
func Read(r io.Reader) ([]Op, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var ops []Op
	for n := 1; sc.Scan(); n++ {
		op, err := decodeLine(sc.Bytes())
		if err != nil {
			return nil, &LineError{Line: n, Err: err}
		}
		ops = append(ops, op)
	}
	if err := sc.Err(); err != nil {
		return nil, &LineError{Line: len(ops) + 1, Err: err}
	}
	return ops, nil
}

// ReadFile reads one history file; errors name the file and line.
func ReadFile(path string) ([]Op, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ops, err := Read(f)
	if le, ok := err.(*LineError); ok {
		le.File = path
	}
	return ops, err
}

// ReadFiles reads the history files of one run, one per process, and
// merges them.
func ReadFiles(paths ...string) ([]Op, error) {
	inputs := make([][]Op, 0, len(paths))
	for _, p := range paths {
		ops, err := ReadFile(p)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, ops)
	}
	return Merge(inputs...), nil
}

// ReadDir reads and merges every history file (*.jsonl) in dir, the
// files of one workload of a run.
func ReadDir(dir string) ([]Op, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	return ReadFiles(files...)
}

func decodeLine(line []byte) (Op, error) {
	if len(bytes.TrimSpace(line)) == 0 {
		return Op{}, fmt.Errorf("blank line")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var op Op
	if err := dec.Decode(&op); err != nil {
		return Op{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return Op{}, fmt.Errorf("more than one value on the line")
	}
	return op, op.Validate()
}
