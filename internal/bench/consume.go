package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// consumeResult is one read of a whole topic from the start.
type consumeResult struct {
	records int
	elapsed time.Duration
}

// stallTimeout is how long a consume may go without a single new record
// before the bench gives up: long enough for a slow disk, short enough that
// a lost record fails the run instead of hanging it.
const stallTimeout = 30 * time.Second

// consume reads topic from offset 0 without a group until want records have
// arrived. More than want is an error too: the topic is fresh, so any extra
// record means the target duplicated something.
func consume(ctx context.Context, addrs []string, topic string, want int) (consumeResult, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addrs...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return consumeResult{}, err
	}
	defer cl.Close()

	got := 0
	start := time.Now()
	for got < want {
		n, err := pollOnce(ctx, cl)
		if err != nil {
			return consumeResult{records: got}, fmt.Errorf("consumed %d of %d: %w", got, want, err)
		}
		got += n
	}
	elapsed := time.Since(start)
	if got != want {
		return consumeResult{records: got}, fmt.Errorf("consumed %d records, produced %d", got, want)
	}
	return consumeResult{records: got, elapsed: elapsed}, nil
}

// pollOnce fetches one batch of records, bounded by stallTimeout, and
// returns how many arrived.
func pollOnce(ctx context.Context, cl *kgo.Client) (int, error) {
	pctx, cancel := context.WithTimeout(ctx, stallTimeout)
	defer cancel()
	fs := cl.PollFetches(pctx)
	if pctx.Err() != nil && fs.NumRecords() == 0 {
		return 0, fmt.Errorf("no records for %v: %w", stallTimeout, pctx.Err())
	}
	var errs []error
	fs.EachError(func(t string, p int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", t, p, err))
		}
	})
	if len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	return fs.NumRecords(), nil
}
