package partition

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sluice/internal/commitlog"
	"sluice/internal/scripttest"
	"sluice/internal/vfs"
)

// The scripts in testdata/epochs/*.txt drive one partition under
// fsync=never on the crashable file system, so that a script says which
// appends a power loss may take. Commands:
//
//	append n=             n batches of one record; prints their offsets and epoch
//	sync                  make everything appended durable
//	epochs                the leader epoch, the highest begun, the entries
//	end-offset epoch=     what OffsetForLeaderEpoch answers
//	epoch-of offset=      the epoch that wrote offset
//	begin epoch=          BeginLeaderEpoch
//	roll                  start a new segment
//	delete-before offset= drop the segments wholly below offset (the log start moves)
//	restart               close cleanly and open again
//	crash                 power loss: open what the synced bytes hold
func TestEpochScripts(t *testing.T) {
	scripttest.RunDir(t, filepath.Join("testdata", "epochs"), func(t *testing.T) scripttest.Runner {
		r := &epochRunner{t: t, mem: vfs.NewMem()}
		r.open()
		t.Cleanup(func() { r.p.Close() })
		return func(_, line string) []string { return r.run(line) }
	})
}

type epochRunner struct {
	t   *testing.T
	mem *vfs.MemFS
	p   *Partition
}

func (r *epochRunner) open() {
	log, err := commitlog.Open(r.mem, "/data/t-0", commitlog.Config{})
	if err != nil {
		r.t.Fatal(err)
	}
	r.p, err = Open(log, "t", 0, Config{Fsync: FsyncNever, MaxMessageBytes: 1 << 20, FS: r.mem}, time.Now)
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *epochRunner) run(line string) []string {
	fields := strings.Fields(line)
	num := func(k string) int64 {
		for _, f := range fields[1:] {
			if name, v, _ := strings.Cut(f, "="); name == k {
				n, err := strconv.ParseInt(v, 10, 64)
				if err == nil {
					return n
				}
			}
		}
		r.t.Fatalf("%s: no number %s=", line, k)
		return 0
	}
	switch fields[0] {
	case "append":
		return r.append(int(num("n")))
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
		r.open()
		return nil
	case "crash":
		crashed := r.mem.CrashClone()
		r.p.Close()
		r.mem = crashed
		r.open()
		return nil
	}
	r.t.Fatalf("unknown command %q", line)
	return nil
}

func (r *epochRunner) append(n int) []string {
	first, last, epochs := int64(-1), int64(-1), map[int32]bool{}
	for range n {
		b := batch()
		res, err := r.p.Append(b)
		if err != nil {
			return errLine(err)
		}
		if first < 0 {
			first = res.BaseOffset
		}
		last = res.BaseOffset
		epochs[b.LeaderEpoch()] = true
	}
	var stamped []string
	for e := range epochs {
		stamped = append(stamped, strconv.Itoa(int(e)))
	}
	return []string{fmt.Sprintf("offsets %d..%d epoch=%s", first, last, strings.Join(stamped, ","))}
}
