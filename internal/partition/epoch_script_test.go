package partition

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sluice/internal/scripttest"
	"sluice/internal/vfs"
)

// The scripts in testdata/epochs/*.txt drive one partition under
// fsync=never on the crashable file system, so that a script says which
// batches a power loss may take. Besides roll, delete-before, restart and
// crash (as in the transaction scripts), the commands are:
//
//	batches n=            n batches of one record; prints their offsets and epoch
//	sync                  make everything appended durable
//	epochs                the leader epoch, the highest begun, the entries
//	end-offset epoch=     what OffsetForLeaderEpoch answers
//	epoch-of offset=      the epoch that wrote offset
//	begin epoch=          BeginLeaderEpoch
func TestEpochScripts(t *testing.T) {
	scripttest.RunDir(t, filepath.Join("testdata", "epochs"), func(t *testing.T) scripttest.Runner {
		r := epochRunner{newTxnRunner(t, func(t *testing.T, fsys vfs.FS) *Partition { return open(t, fsys, FsyncNever) })}
		return func(_, line string) []string { return r.run(line) }
	})
}

type epochRunner struct{ *txnRunner }

func (r epochRunner) run(line string) []string {
	fields, _, num := r.args(line)
	switch fields[0] {
	case "batches":
		return r.batches(int(num("n")))
	case "sync":
		r.p.sync()
		return errLine(r.p.Err())
	case "epochs":
		highest, entries := r.p.log.Epochs()
		var es []string
		for _, e := range entries {
			es = append(es, fmt.Sprintf("%d@%d", e.Epoch, e.StartOffset))
		}
		return []string{fmt.Sprintf("leader=%d highest=%d entries=[%s]", r.p.LeaderEpoch(), highest, strings.Join(es, " "))}
	case "end-offset":
		epoch, end := r.p.EpochEndOffset(int32(num("epoch")))
		return []string{fmt.Sprintf("epoch=%d end=%d", epoch, end)}
	case "epoch-of":
		return []string{fmt.Sprintf("epoch=%d", r.p.EpochForOffset(num("offset")))}
	case "begin":
		return errLine(r.p.BeginLeaderEpoch(int32(num("epoch"))))
	}
	return r.txnRunner.run(line)
}

func (r epochRunner) batches(n int) []string {
	var offsets []int64
	var epochs []int32
	for range n {
		b := batch()
		res, err := r.p.Append(b)
		if err != nil {
			return errLine(err)
		}
		offsets = append(offsets, res.BaseOffset)
		if !slices.Contains(epochs, b.LeaderEpoch()) {
			epochs = append(epochs, b.LeaderEpoch())
		}
	}
	return []string{fmt.Sprintf("offsets %d..%d epoch=%s", offsets[0], offsets[n-1], strings.Trim(fmt.Sprint(epochs), "[]"))}
}
