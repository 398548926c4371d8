// Command idempotent-by-sequence is an idempotent consumer that recognises
// a record it has already applied by a sequence number its producer puts
// in it: each producer numbers its messages 1, 2, 3, ..., and the consumer
// keeps, per producer, the last number it applied. A record whose number
// is not above that is a repeat, and is dropped. Its effect, adding a
// meter's reading to the meter's total, happens exactly once per reading,
// although the records arrive at least once: a producer that restarts
// re-sends its last readings, and a consumer that crashes before
// committing reads a poll again.
//
// Compared with deduplication by a key that identifies the message, the
// store is small and bounded, one number per producer instead of every key
// ever seen. In exchange it needs more from the producers:
//
//   - a message keeps its number when it is sent again, and a new message
//     gets a higher one, across restarts of the producer: the producer
//     stores its counter, or takes the number from its source (a row id, a
//     line number);
//   - a producer's records are read in the order of their numbers: they go
//     to one partition (the record key is the producer id), and the
//     producer does not reorder them on retries (enable.idempotence=true,
//     or one request in flight). A record overtaken by a higher number is
//     dropped, that is lost.
//
// The producer id and the sequence number travel as record headers
// ("producer", "seq"), so the value stays the application's own.
//
// # The store changes in the same step as the effect
//
// The totals (the effect) and the last sequence numbers (the store) are
// one small state file, replaced whole after each poll: written to a
// temporary file, fsynced, renamed over the old one, and the directory
// fsynced. A rename is atomic, so after any crash the file holds either
// the old totals with the old numbers or the new totals with the new
// numbers, never one without the other. The offsets are committed after
// the rename: a crash before the rename loses the poll's effects and
// numbers together, and the poll is read and applied again; a crash
// between the rename and the commit makes the poll come back, and every
// record of it is dropped.
//
// Usage:
//
//	idempotent-by-sequence -brokers 127.0.0.1:9092 -topic readings -group totals -state totals.json
//
// It prints one line per event:
//
//	polled 100 records
//	applied 1/41 producer=meter-1 seq=17 value=5 total=1234    added to meter-1's total
//	dropped 1/57 producer=meter-1 seq=15 last=17              a repeat: 15 is not above 17
//	gap producer=meter-1 seq=20 last=17                       numbers 18 and 19 never arrived (applied anyway)
//	stored totals.json                                        the poll's effects and numbers are on disk
//	committed 0/34 1/33                                       per partition, the next offset the group will read
//
// SIGINT or SIGTERM: it finishes, stores and commits the poll in hand,
// then exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// State is what the state file holds: per producer, the last sequence
// number applied and the effect, the count and sum of its readings.
type State struct {
	Producers map[string]*Producer `json:"producers"`
}

// Producer is one producer's entry in the state.
type Producer struct {
	LastSeq int64 `json:"last_seq"`
	Count   int64 `json:"count"`
	Total   int64 `json:"total"`
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	topic := flag.String("topic", "", "topic of readings: headers producer and seq, value = a number")
	group := flag.String("group", "", "consumer group")
	instance := flag.String("instance", "", "group.instance.id (optional): a restarted consumer with the same id gets its partitions back at once")
	statePath := flag.String("state", "", "the state file, created if missing")
	crashAfterStore := flag.Int("crash-after-store", 0, "fault injection: SIGKILL this process right after its Nth store of the state, before committing the offsets")
	workMS := flag.Int("work-ms", 0, "milliseconds spent processing each record, standing in for real work")
	flag.Parse()
	if *topic == "" || *group == "" || *statePath == "" {
		flag.Usage()
		os.Exit(2)
	}

	state, err := load(*statePath)
	if err != nil {
		fatal("%v", err)
	}
	fmt.Printf("opened %s: %d producers\n", *statePath, len(state.Producers))

	opts := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// At-least-once underneath: commit after storing, never before
		// (enable.auto.commit=false). Deduplication turns the repeats of
		// at-least-once into exactly-once effects; it cannot bring back a
		// record skipped by a commit made too early.
		kgo.DisableAutoCommit(),
	}
	if *instance != "" {
		opts = append(opts, kgo.InstanceID(*instance))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		fatal("client: %v", err)
	}
	defer cl.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	applied, dropped, stores := 0, 0, 0
	for {
		fetches := cl.PollRecords(ctx, 100)
		if ctx.Err() != nil {
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			fmt.Fprintf(os.Stderr, "idempotent-by-sequence: fetch %s/%d: %v\n", t, p, err)
		})
		records := fetches.Records()
		if len(records) == 0 {
			continue
		}
		fmt.Printf("polled %d records\n", len(records))

		for _, r := range records {
			place := fmt.Sprintf("%d/%d", r.Partition, r.Offset)
			producer, seq, value, err := parse(r)
			if err != nil {
				// A record that can never be applied is reported and
				// passed over, or it would stop the partition for ever.
				fmt.Fprintf(os.Stderr, "idempotent-by-sequence: %s: %v\n", place, err)
				continue
			}
			p := state.Producers[producer]
			if p == nil {
				p = &Producer{}
				state.Producers[producer] = p
			}
			if seq <= p.LastSeq {
				dropped++
				fmt.Printf("dropped %s producer=%s seq=%d last=%d\n", place, producer, seq, p.LastSeq)
				continue
			}
			if seq != p.LastSeq+1 {
				fmt.Printf("gap producer=%s seq=%d last=%d\n", producer, seq, p.LastSeq)
			}
			time.Sleep(time.Duration(*workMS) * time.Millisecond)
			// The effect and the new last number change together, in
			// memory; store makes both durable at once.
			p.Count++
			p.Total += value
			p.LastSeq = seq
			applied++
			fmt.Printf("applied %s producer=%s seq=%d value=%d total=%d\n", place, producer, seq, value, p.Total)
		}

		if err := store(*statePath, state); err != nil {
			fatal("%v", err)
		}
		stores++
		fmt.Printf("stored %s\n", *statePath)
		if stores == *crashAfterStore {
			fmt.Printf("crashing after store %d, before the commit\n", stores)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // never returns
		}

		commitCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := cl.CommitRecords(commitCtx, records...)
		cancel()
		if err != nil {
			// Read again by whoever owns the partitions now; the
			// stored sequence numbers make the repeats harmless.
			fmt.Fprintf(os.Stderr, "idempotent-by-sequence: commit failed, these %d records will be read again: %v\n", len(records), err)
			continue
		}
		fmt.Printf("committed %s\n", nextOffsets(records))
	}
	fmt.Printf("stopped after %d readings applied and %d dropped\n", applied, dropped)
}

// parse reads a record's producer id and sequence number (headers) and its
// value.
func parse(r *kgo.Record) (producer string, seq, value int64, err error) {
	var seqText string
	for _, h := range r.Headers {
		switch h.Key {
		case "producer":
			producer = string(h.Value)
		case "seq":
			seqText = string(h.Value)
		}
	}
	seq, errSeq := strconv.ParseInt(seqText, 10, 64)
	value, errValue := strconv.ParseInt(string(r.Value), 10, 64)
	if producer == "" || errSeq != nil || errValue != nil {
		return "", 0, 0, fmt.Errorf("not a reading (producer %q, seq %q, value %q)", producer, seqText, r.Value)
	}
	return producer, seq, value, nil
}

// load reads the state file; a missing file is the empty state.
func load(path string) (*State, error) {
	s := &State{Producers: map[string]*Producer{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Producers == nil {
		s.Producers = map[string]*Producer{}
	}
	return s, nil
}

// store replaces the state file atomically: the new content is complete
// and on disk before the rename makes it the state file, and the rename is
// on disk before store returns.
func store(path string, s *State) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if errClose := f.Close(); err == nil {
		err = errClose
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// nextOffsets lists, per partition of records, the offset after the last
// record: what a commit of records stores, the next record to read.
func nextOffsets(records []*kgo.Record) string {
	next := map[int32]int64{}
	var order []int32
	for _, r := range records {
		if _, ok := next[r.Partition]; !ok {
			order = append(order, r.Partition)
		}
		next[r.Partition] = max(next[r.Partition], r.Offset+1)
	}
	parts := make([]string, len(order))
	for i, p := range order {
		parts[i] = fmt.Sprintf("%d/%d", p, next[p])
	}
	return strings.Join(parts, " ")
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "idempotent-by-sequence: "+format+"\n", args...)
	os.Exit(1)
}
