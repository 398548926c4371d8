package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// target is one system under test: something that speaks Kafka at addrs.
// Both targets are driven through the same kgo/kadm code paths so that the
// only difference between the two columns of the table is the broker.
type target struct {
	name  string
	addrs []string
	close func() error
}

// startSluice starts an in-process Sluice on 127.0.0.1:0 with a fresh data
// dir under parent. The data dir lives on the real disk (not a vfs.MemFS)
// because fsync cost is exactly what the bench is meant to show.
func startSluice(cfg Config) (*target, error) {
	b, dir, err := startBroker(cfg, nil)
	if err != nil {
		return nil, err
	}
	return &target{
		name:  "sluice",
		addrs: []string{b.Addr()},
		close: func() error { return errors.Join(b.Close(), os.RemoveAll(dir)) },
	}, nil
}

// externalSluice points the bench at an already-running Sluice. The bench
// creates and deletes its own topics there but never stops the broker.
func externalSluice(brokers string) *target {
	return &target{
		name:  "sluice",
		addrs: strings.Split(brokers, ","),
		close: func() error { return nil },
	}
}

// startKfake starts franz-go's in-memory fake cluster with one broker, the
// same shape as a single Sluice node.
func startKfake() (*target, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		return nil, fmt.Errorf("start kfake: %w", err)
	}
	return &target{
		name:  "kfake",
		addrs: c.ListenAddrs(),
		close: func() error { c.Close(); return nil },
	}, nil
}

// createTopic makes a fresh topic with replication factor 1 (both targets
// are single-node) through kadm, identically on both targets.
func (t *target) createTopic(ctx context.Context, topic string, partitions int32) error {
	return t.admin(func(adm *kadm.Client) error {
		_, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
		return err
	})
}

// deleteTopic drops a finished topic so that disk (Sluice) and memory
// (kfake) do not grow across the matrix and skew later cells.
func (t *target) deleteTopic(ctx context.Context, topic string) error {
	return t.admin(func(adm *kadm.Client) error {
		_, err := adm.DeleteTopic(ctx, topic)
		return err
	})
}

// admin runs fn with a short-lived admin client; topic operations are rare
// so a client per call keeps state out of the target.
func (t *target) admin(fn func(*kadm.Client) error) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(t.addrs...))
	if err != nil {
		return err
	}
	defer cl.Close()
	return fn(kadm.NewClient(cl))
}
