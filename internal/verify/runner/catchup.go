package runner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// catchUp waits, once the producers have stopped, until every consuming
// group has committed up to the end of its topic, so that the consumers
// stop having delivered everything (a record they never reach is no
// violation, but a run that ends with the groups far behind tests
// little). A group that does not catch up in time is noted. The groups
// are waited for at once: one that never catches up must not use up the
// time of the others and make them look stuck too.
func (r *run) catchUp() {
	ctx, cancel := context.WithTimeout(context.Background(), catchUpTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range r.workloads {
		for _, g := range w.groups() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if behind := r.waitCommitted(ctx, g); behind != "" {
					r.note("group %s (%s) did not catch up within %v: %s", g.group, w.g, catchUpTimeout, behind)
				}
			}()
		}
	}
	wg.Wait()
}

// waitCommitted polls the group's committed offsets until they reach the
// topic's end offsets; it returns what is still behind when ctx ends.
func (r *run) waitCommitted(ctx context.Context, g consumerGroup) string {
	for {
		behind, err := r.behind(ctx, g)
		if err == nil && behind == "" {
			return ""
		}
		if err != nil {
			behind = err.Error()
		}
		select {
		case <-ctx.Done():
			return behind
		case <-time.After(250 * time.Millisecond): // the offsets live in the broker: poll them
		}
	}
}

func (r *run) behind(ctx context.Context, g consumerGroup) (string, error) {
	ends, err := r.adm.ListEndOffsets(ctx, g.topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return "", err
	}
	committed, err := r.adm.FetchOffsets(ctx, g.group)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		return "", err
	}
	var behind string
	ends.Each(func(e kadm.ListedOffset) {
		c, ok := committed.Lookup(g.topic, e.Partition)
		if e.Offset > 0 && (!ok || c.At < e.Offset) {
			behind += fmt.Sprintf(" %s/%d at %d of %d", g.topic, e.Partition, c.At, e.Offset)
		}
	})
	return behind, nil
}
