package bench

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kfake"

	"sluice/internal/bench/nullbroker"
)

// Kind names a broker the bench measures.
type Kind string

const (
	// KindSluice is Sluice with the bench's --fsync policy.
	KindSluice Kind = "sluice"
	// KindNull acknowledges without storing (package nullbroker): the
	// client's own ceiling on this machine.
	KindNull Kind = "null"
	// KindKfake is franz-go's kfake, everything in memory.
	KindKfake Kind = "kfake"
	// KindKfakeFsync is kfake writing to disk with an fsync per batch
	// (DataDir and SyncWrites): the fair peer for a broker that fsyncs
	// before it acknowledges.
	KindKfakeFsync Kind = "kfake-fsync"
)

// Kinds is every kind, Sluice first: the default set of a run.
var Kinds = []Kind{KindSluice, KindNull, KindKfake, KindKfakeFsync}

// ParseKinds parses a comma-separated list; Sluice is always first, as
// the ratios are Sluice's over each peer.
func ParseKinds(s string) ([]Kind, error) {
	out := []Kind{KindSluice}
	for _, f := range strings.Split(s, ",") {
		k := Kind(strings.TrimSpace(f))
		switch k {
		case KindSluice, "":
		case KindNull, KindKfake, KindKfakeFsync:
			out = append(out, k)
		default:
			return nil, fmt.Errorf("unknown peer %q: want null, kfake or kfake-fsync", k)
		}
	}
	return out, nil
}

// Label is the kind's column heading.
func (k Kind) Label() string {
	switch k {
	case KindSluice:
		return "Sluice"
	case KindKfakeFsync:
		return "kfake (fsync)"
	case KindKfake:
		return "kfake (memory)"
	}
	return string(k)
}

// Peer is a broker of some kind running in this process.
type Peer struct {
	Addr  string
	Close func() error
}

// StartPeer starts a broker of kind k on 127.0.0.1:0 in this process;
// the ones that write to disk get a fresh directory under cfg.DataDir,
// removed at Close. `sluice bench broker` runs it in a child process.
func StartPeer(k Kind, cfg Config) (*Peer, error) {
	cfg.setDefaults()
	switch k {
	case KindSluice:
		b, dir, err := startBroker(cfg, nil)
		if err != nil {
			return nil, err
		}
		return &Peer{Addr: b.Addr(), Close: func() error { return errors.Join(b.Close(), os.RemoveAll(dir)) }}, nil
	case KindNull:
		s, err := nullbroker.Listen("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		return &Peer{Addr: s.Addr(), Close: s.Close}, nil
	case KindKfake:
		return startKfake("")
	case KindKfakeFsync:
		dir, err := os.MkdirTemp(cfg.DataDir, "kfake-bench-")
		if err != nil {
			return nil, err
		}
		return startKfake(dir)
	}
	return nil, fmt.Errorf("unknown broker kind %q", k)
}

// startKfake starts kfake with one broker, the shape of one Sluice node;
// with dir, on disk with an fsync of its segment and index files after
// every batch.
func startKfake(dir string) (*Peer, error) {
	opts := []kfake.Opt{kfake.NumBrokers(1)}
	if dir != "" {
		opts = append(opts, kfake.DataDir(dir), kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start kfake: %w", err)
	}
	return &Peer{Addr: c.ListenAddrs()[0], Close: func() error {
		c.Close()
		if dir != "" {
			return os.RemoveAll(dir)
		}
		return nil
	}}, nil
}
