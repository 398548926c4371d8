package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"sluice/internal/verify/history"
)

// tail follows the workloads' history files as they grow and counts
// their ops, for the progress lines. It reads only whole lines: a
// process writes each op with one write, but the tail may read between
// two.
type tail struct {
	dirs    []string
	offset  map[string]int64  // bytes of each file counted
	partial map[string][]byte // a line not yet whole
	n       tally
}

type tally struct {
	sent, acked, delivered, committed, aborted int
	// lastPoll is when each process last recorded a poll with records.
	lastPoll map[int]time.Time
}

func newTail(ws []*workloadRun) *tail {
	t := &tail{offset: map[string]int64{}, partial: map[string][]byte{}, n: tally{lastPoll: map[int]time.Time{}}}
	for _, w := range ws {
		t.dirs = append(t.dirs, w.dir)
	}
	return t
}

// read counts what was appended since the last read and says where the
// run stands.
func (t *tail) read() string {
	t.refresh()
	s := fmt.Sprintf("sent %d (%d acknowledged), delivered %d", t.n.sent, t.n.acked, t.n.delivered)
	if t.n.committed+t.n.aborted > 0 {
		s += fmt.Sprintf(", transactions %d committed, %d aborted", t.n.committed, t.n.aborted)
	}
	return s
}

// refresh counts what was appended since the last time.
func (t *tail) refresh() {
	for _, dir := range t.dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		for _, f := range files {
			t.readFile(f)
		}
	}
}

// polledSince reports whether process id recorded a poll with records
// at or after since.
func (t *tail) polledSince(id int, since time.Time) bool {
	at, ok := t.n.lastPoll[id]
	return ok && !at.Before(since)
}

func (t *tail) readFile(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(t.offset[path], io.SeekStart); err != nil {
		return
	}
	data, _ := io.ReadAll(f)
	t.offset[path] += int64(len(data))
	data = append(t.partial[path], data...)
	last := bytes.LastIndexByte(data, '\n')
	t.partial[path] = append([]byte(nil), data[last+1:]...)
	for _, line := range bytes.Split(data[:last+1], []byte("\n")) {
		var op history.Op
		if json.Unmarshal(line, &op) == nil {
			t.n.count(op)
		}
	}
}

func (n *tally) count(op history.Op) {
	switch op.Kind {
	case history.Send:
		n.sent++
		if op.Outcome == history.OK {
			n.acked++
		}
	case history.Poll:
		if op.Group != "" {
			n.delivered += len(op.Records)
		}
		if len(op.Records) > 0 {
			n.lastPoll[op.Process] = op.Time
		}
	case history.TxnCommit:
		if op.Outcome == history.OK {
			n.committed++
		}
	case history.TxnAbort:
		n.aborted++
	}
}
