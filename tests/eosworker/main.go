// Command eosworker is the exactly-once worker that tests/eos_test.go runs
// as a child process and kills with SIGKILL: it reads -in as a member of
// -group, writes every record's value to -out, and commits its input
// offsets in the same transaction (franz-go's GroupTransactSession, the
// consume-process-produce loop of KIP-98 with KIP-447's group fencing).
//
// It prints "committed <n>" after each committed transaction holding n
// records, so the test can kill it at a known point.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "", "bootstrap broker host:port")
	group := flag.String("group", "", "consumer group id")
	in := flag.String("in", "", "input topic")
	out := flag.String("out", "", "output topic")
	txnID := flag.String("txn-id", "", "transactional id, stable across restarts of this worker")
	flag.Parse()
	if *brokers == "" || *group == "" || *in == "" || *out == "" || *txnID == "" {
		flag.Usage()
		os.Exit(2)
	}
	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(*brokers),
		kgo.TransactionalID(*txnID),
		kgo.TransactionTimeout(10*time.Second),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*in),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.SessionTimeout(6*time.Second),
		kgo.RebalanceTimeout(10*time.Second),
		kgo.HeartbeatInterval(500*time.Millisecond),
		kgo.RetryTimeout(30*time.Second),
		kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelInfo, nil)),
	)
	if err != nil {
		fatal("session: %v", err)
	}
	defer sess.Close()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := sess.PollRecords(ctx, 50)
		cancel()
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				fatal("fetch %s/%d: %v", t, p, err)
			}
		})
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			fatal("begin: %v", err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
		for _, r := range recs {
			sess.Produce(ctx, &kgo.Record{Topic: *out, Key: r.Key, Value: r.Value}, nil)
		}
		committed, err := sess.End(ctx, kgo.TryCommit)
		cancel()
		if err != nil {
			fatal("end: %v", err)
		}
		if committed {
			fmt.Printf("committed %d\n", len(recs))
		}
	}
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "eosworker: "+format+"\n", args...)
	os.Exit(1)
}
