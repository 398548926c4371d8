package partition

import (
	"errors"
	"fmt"
	"path/filepath"
	"sluice/internal/vfs"
	"strconv"
	"strings"
	"testing"

	"sluice/internal/scripttest"
)

// The scripts in testdata/txn/*.txt drive one partition on the crashable
// file system through transactions, restarts, power losses and deletions,
// printing the last stable offset and the aborted-transaction index after
// each step ("-> " lines, regenerated with -update as in the other script
// tests of the project). Commands:
//
//	append pid= epoch= seq= [txn]   a batch of one record, made durable
//	plain                           a batch without a producer id
//	marker pid= epoch= commit|abort a transaction marker, made durable
//	state                           HW, LSO and the open transactions
//	aborted from= to=               what a read_committed fetch of [from, to) is told
//	roll                            start a new segment
//	delete-before offset=           drop the segments wholly below offset
//	restart                         close cleanly and open again
//	crash                           power loss: open what the synced bytes hold
func TestTxnScripts(t *testing.T) {
	scripttest.RunDir(t, filepath.Join("testdata", "txn"), func(t *testing.T) scripttest.Runner {
		r := newTxnRunner(t, func(t *testing.T, fsys vfs.FS) *Partition { return openOn(t, fsys, 0) })
		return func(_, line string) []string { return r.run(line) }
	})
}

type txnRunner struct {
	t    *testing.T
	mem  *vfs.MemFS
	p    *Partition
	open func(*testing.T, vfs.FS) *Partition // how restart and crash open the partition again
}

func newTxnRunner(t *testing.T, open func(*testing.T, vfs.FS) *Partition) *txnRunner {
	r := &txnRunner{t: t, mem: vfs.NewMem(), open: open}
	r.p = open(t, r.mem)
	t.Cleanup(func() { r.p.Close() })
	return r
}

// args splits a command line into its fields, its key=value arguments
// (a bare key is a flag with an empty value) and a reader of numeric ones,
// which fails the test when one is missing.
func (r *txnRunner) args(line string) ([]string, map[string]string, func(key string) int64) {
	fields := strings.Fields(line)
	kv := map[string]string{}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		kv[k] = v
	}
	return fields, kv, func(k string) int64 {
		n, err := strconv.ParseInt(kv[k], 10, 64)
		if err != nil {
			r.t.Fatalf("%s: %s=%q", line, k, kv[k])
		}
		return n
	}
}

func (r *txnRunner) run(line string) []string {
	fields, kv, num := r.args(line)
	switch fields[0] {
	case "append":
		b := idemBatch(num("pid"), int16(num("epoch")), int32(num("seq")))
		if _, ok := kv["txn"]; ok {
			b = txnBatch(num("pid"), int16(num("epoch")), int32(num("seq")))
		}
		return r.appended(r.p.Append(b))
	case "plain":
		return r.appended(r.p.Append(batch()))
	case "marker":
		_, commit := kv["commit"]
		return r.appended(r.p.AppendMarker(marker(num("pid"), int16(num("epoch")), commit)))
	case "state":
		var open []string
		for _, pr := range r.p.Producers() {
			if pr.CurrentTxnStartOffset >= 0 {
				open = append(open, fmt.Sprintf("%d@%d", pr.ProducerID, pr.CurrentTxnStartOffset))
			}
		}
		return []string{fmt.Sprintf("hw=%d lso=%d open=[%s]", r.p.HighWatermark(), r.p.LastStableOffset(), strings.Join(open, " "))}
	case "aborted":
		var out []string
		for _, a := range r.p.abortedIn(num("from"), num("to")) {
			out = append(out, fmt.Sprintf("pid=%d first=%d", a.ProducerID, a.FirstOffset))
		}
		return []string{"[" + strings.Join(out, ", ") + "]"}
	case "roll":
		return errLine(r.p.Roll())
	case "delete-before":
		n, err := r.p.DeleteBefore(num("offset"))
		if err != nil {
			return errLine(err)
		}
		return []string{fmt.Sprintf("deleted %d segments, start=%d", n, r.p.StartOffset())}
	case "restart":
		r.p.Close()
		r.p = r.open(r.t, r.mem)
		return nil
	case "crash":
		crashed := r.mem.CrashClone()
		r.p.Close()
		r.mem = crashed
		r.p = r.open(r.t, r.mem)
		return nil
	}
	r.t.Fatalf("unknown command %q", line)
	return nil
}

func (r *txnRunner) appended(res AppendResult, err error) []string {
	if err != nil {
		return errLine(err)
	}
	if err := r.p.WaitDurable(r.t.Context(), res.NextOffset); err != nil {
		return errLine(err)
	}
	return []string{fmt.Sprintf("offset=%d", res.BaseOffset)}
}

func errLine(err error) []string {
	if err == nil {
		return []string{"ok"}
	}
	var pe *ProducerError
	if errors.As(err, &pe) {
		return []string{fmt.Sprintf("refused code=%d", pe.Code)}
	}
	return []string{"error " + err.Error()}
}
