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
	cl, err := newConsumer(addrs, topic)
	if err != nil {
		return consumeResult{}, err
	}
	defer cl.Close()
	start := time.Now()
	got, end, err := readN(ctx, cl, want)
	return consumeResult{records: got, elapsed: end.Sub(start)}, err
}

// newConsumer reads every partition of topic from the start, without a
// group.
func newConsumer(addrs []string, topic string) (*kgo.Client, error) {
	return kgo.NewClient(
		kgo.SeedBrokers(addrs...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
}

// readN polls until want records have arrived and returns when the last
// of them did.
func readN(ctx context.Context, cl *kgo.Client, want int) (int, time.Time, error) {
	got := 0
	for got < want {
		n, err := pollOnce(ctx, cl)
		if err != nil {
			return got, time.Time{}, fmt.Errorf("consumed %d of %d: %w", got, want, err)
		}
		got += n
	}
	end := time.Now()
	if got != want {
		return got, end, fmt.Errorf("consumed %d records, produced %d", got, want)
	}
	return got, end, nil
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
