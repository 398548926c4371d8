package bench

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// target is one system under test: something that speaks Kafka at addrs.
// Every target is driven through the same kgo/kadm code paths so that the
// only difference between the columns of the table is the broker.
type target struct {
	kind  Kind
	addrs []string
	// cpu is the CPU time the broker has used; nil when it shares the
	// bench's process or is not ours (--in-process, --brokers).
	cpu func() (time.Duration, error)
	// mark tells the broker a measured window begins or ends, for its
	// profile; nil when it is not a child.
	mark  func(string)
	close func() error
}

// startTarget starts a broker of kind k: as a child process of cfg.Binary
// (the default, so that its CPU time can be told apart from the
// clients'), or in this process with cfg.InProcess (for --cpuprofile).
// With cfg.Brokers, Sluice is the broker found there.
func startTarget(k Kind, cfg Config) (*target, error) {
	if k == KindSluice && cfg.Brokers != "" {
		return &target{kind: k, addrs: strings.Split(cfg.Brokers, ","), close: func() error { return nil }}, nil
	}
	if cfg.InProcess {
		p, err := StartPeer(k, cfg)
		if err != nil {
			return nil, err
		}
		return &target{kind: k, addrs: []string{p.Addr}, close: p.Close}, nil
	}
	bin := cfg.Binary
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	c, addr, err := startChild(bin, k, cfg)
	if err != nil {
		return nil, err
	}
	return &target{kind: k, addrs: []string{addr}, cpu: c.cpu, mark: c.mark, close: c.close}, nil
}

// window marks a measured window's beginning ("begin") or end ("end").
func (t *target) window(word string) {
	if t.mark != nil {
		t.mark(word)
	}
}

// startTargets starts every kind of the run, in order.
func startTargets(cfg Config) ([]*target, error) {
	var out []*target
	for _, k := range cfg.Kinds {
		t, err := startTarget(k, cfg)
		if err != nil {
			closeTargets(out)
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func closeTargets(ts []*target) {
	for _, t := range ts {
		t.close()
	}
}

// createTopic makes a fresh topic with replication factor 1 (every target
// is single-node) through kadm, identically on every target.
func (t *target) createTopic(ctx context.Context, topic string, partitions int32) error {
	return t.admin(func(adm *kadm.Client) error {
		_, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
		return err
	})
}

// deleteTopic drops a finished topic so that disk and memory do not grow
// across the matrix and skew later cells.
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
