// Command consumer is the group consumer that tests/semantics_test.go runs
// as a child process (and kills with SIGKILL) to check the delivery
// semantics our users read about: at-most-once (commit a polled batch, then
// process it) and at-least-once (process a polled batch, then commit it).
//
// "Processing" a record appends its value as one line to -out. Around the
// values the consumer writes marker lines, so the test can tell from the file
// alone what was committed when:
//
//	at-most-once:  "committed <n> <v1,v2,...>"  the batch's offsets are committed (acknowledged); its values follow
//	at-least-once: "batch <n> <v1,v2,...>"      the batch was polled; its values follow
//	               "committed"                   the batch's offsets are committed (acknowledged)
//	both:          "done"                        committed offsets reached the topic's end offsets; exit 0
//
// Every line goes to -out with a single O_APPEND write and then to stdout,
// which the test reads as its event stream (the file stays the record of
// what was processed, since a kill can cut the stdout copy short).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "", "bootstrap broker host:port")
	group := flag.String("group", "", "consumer group id")
	topic := flag.String("topic", "", "topic to consume")
	out := flag.String("out", "", "file the processed values are appended to")
	mode := flag.String("mode", "", "at-most-once or at-least-once")
	batch := flag.Int("batch", 100, "most records per poll")
	delay := flag.Duration("delay", 0, "processing time per record")
	flag.Parse()
	if *brokers == "" || *group == "" || *topic == "" || *out == "" || (*mode != "at-most-once" && *mode != "at-least-once") {
		flag.Usage()
		os.Exit(2)
	}

	f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fatal("open output: %v", err)
	}
	emit := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...) + "\n"
		if _, err := f.WriteString(line); err != nil {
			fatal("write output: %v", err)
		}
		if _, err := os.Stdout.WriteString(line); err != nil {
			fatal("write stdout: %v", err)
		}
	}

	ends := endOffsets(*brokers, *topic)

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(*brokers),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(), // commits are explicit: before or after processing
		kgo.SessionTimeout(6*time.Second),
		kgo.RebalanceTimeout(10*time.Second),
		kgo.HeartbeatInterval(500*time.Millisecond),
		kgo.RetryTimeout(30*time.Second),
		kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelInfo, nil)),
	)
	if err != nil {
		fatal("client: %v", err)
	}

	// done: the committed offsets (fetched at join or committed since)
	// reached the end of every non-empty partition.
	done := func() bool {
		committed := cl.CommittedOffsets()[*topic]
		for p, end := range ends {
			if end == 0 {
				continue
			}
			if c, ok := committed[p]; !ok || c.Offset < end {
				return false
			}
		}
		return true
	}

	for !done() {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := cl.PollRecords(ctx, *batch)
		cancel()
		fs.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) {
				return
			}
			fatal("fetch %s/%d: %v", t, p, err)
		})
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		vals := make([]string, len(recs))
		for i, r := range recs {
			vals[i] = string(r.Value)
		}
		process := func() {
			for _, r := range recs {
				time.Sleep(*delay)
				emit("%s", r.Value)
			}
		}
		switch *mode {
		case "at-most-once": // commit first, then process: a crash loses the rest of the batch
			commit(cl, recs)
			emit("committed %d %s", len(recs), strings.Join(vals, ","))
			process()
		case "at-least-once": // process first, then commit: a crash repeats the batch
			emit("batch %d %s", len(recs), strings.Join(vals, ","))
			process()
			commit(cl, recs)
			emit("committed")
		}
	}
	emit("done")
	cl.Close()
}

// commit synchronously commits the offsets after recs; any error is fatal,
// so a "committed" line always means the broker acknowledged the commit.
func commit(cl *kgo.Client, recs []*kgo.Record) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.CommitRecords(ctx, recs...); err != nil {
		fatal("commit: %v", err)
	}
}

func endOffsets(brokers, topic string) map[int32]int64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		fatal("admin client: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	listed, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		fatal("list end offsets: %v", err)
	}
	if err := listed.Error(); err != nil {
		fatal("list end offsets: %v", err)
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	if len(ends) == 0 {
		fatal("topic %s has no partitions", topic)
	}
	return ends
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "consumer: "+format+"\n", args...)
	os.Exit(1)
}
