package runner

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/verify/faultproxy"
	"sluice/internal/verify/history"
)

// The requests whose answers the drop faults swallow.
const (
	produceKey         = faultproxy.ProduceKey
	offsetCommitKey    = int16(8)
	endTxnKey          = int16(26)
	txnOffsetCommitKey = int16(28)
)

// dropWait is how long a drop fault waits for a request to drop.
const dropWait = 5 * time.Second

// dropAnswer swallows the answer to the next request of one of keys, on
// any proxy, and reports what was dropped; info when no such request
// passed in time.
func (r *run) dropAnswer(keys ...int16) (string, history.Outcome) {
	drained := false
	for !drained { // forget a drop that came after an earlier fault gave up
		select {
		case <-r.pool.Drops():
		default:
			drained = true
		}
	}
	var fired atomic.Bool
	r.pool.DropResponses(func(q faultproxy.Request) bool {
		return slices.Contains(keys, q.APIKey) && fired.CompareAndSwap(false, true)
	})
	defer r.pool.DropResponses(nil)
	select {
	case d := <-r.pool.Drops():
		return fmt.Sprintf("swallowed the answer to %s v%d after the broker handled it, and cut the connection (%d more of its kind in flight lost with it)",
			kmsg.NameForKey(d.Req.APIKey), d.Req.Version, d.Behind), history.OK
	case <-time.After(dropWait):
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = kmsg.NameForKey(k)
		}
		return fmt.Sprintf("no %v request passed in %v", names, dropWait), history.Info
	}
}

// delayFor is how long a delay fault lasts.
const delayFor = 2 * time.Second

// delay holds every answer for d, for delayFor.
func (r *run) delay(d time.Duration) string {
	r.pool.DelayResponses(func(faultproxy.Request) time.Duration { return d })
	time.Sleep(delayFor) // the fault is a duration
	r.pool.DelayResponses(nil)
	return fmt.Sprintf("held every answer %v, for %v", d.Round(time.Millisecond), delayFor)
}
