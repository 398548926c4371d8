// Command idempotent-by-key is an idempotent consumer that recognises a
// record it has already applied by a key that identifies the message: here
// a payment id, carried as the record's key. Its effect, crediting the
// payment to an account, happens exactly once per payment, although the
// records arrive at least once: a producer that re-sends a payment after a
// timeout writes it twice, and a consumer that crashes before committing
// reads a poll again.
//
// The consumer is at-least-once (process, then commit) and keeps a store
// of the keys it has applied; a record whose key is in the store is
// skipped.
//
// # The store must change in the same step as the effect
//
// Apply the effect, then record the key: a crash between the two leaves
// an effect without its key, and the redelivered payment is credited a
// second time. Record the key, then apply the effect: a crash between the
// two leaves a key without its effect, and the payment is never credited.
// Only a store that changes atomically with the effect holds: in a
// database, the key and the effect go in one transaction (the key a
// primary key, so a second insert fails).
//
// Here the account is a journal file, and one line both credits the
// payment and records its id:
//
//	<crc32> <partition>/<offset> <payment id> <amount>
//
// The balance is the sum of the journal's amounts and the set of applied
// keys is the set of its ids, so there is nothing to keep in step: a
// payment is applied exactly when its line is in the journal. A line is
// written with one write, and the journal is fsynced before the offsets
// are committed, so every committed record's line survives a crash, even
// of the machine. A crash can damage only what was written since the last
// fsync (a kill in the middle of a write leaves part of a line; a power
// loss, part of a line or garbage), and none of those records is
// committed yet: at start, the journal is read up to the first line that
// is incomplete or whose checksum fails, and cut there. The records of the
// lines cut are read again and applied then.
//
// The flag -separate-store keeps the keys in a second file, written after
// the effect, and -crash-after makes the program kill itself between the
// two writes: run both to see the payment credited twice.
//
// One journal serves one consumer: with several members in the group, the
// store must be shared by all of them (a database), since a partition and
// its redeliveries can move from one member to another.
//
// Usage:
//
//	idempotent-by-key -brokers 127.0.0.1:9092 -topic payments -group ledger -journal ledger.journal
//
// It prints one line per event:
//
//	polled 100 records
//	applied 2/41 key=pay-17 amount=18 balance=1234   the payment at partition 2, offset 41 credited
//	skipped 2/57 key=pay-17                          already applied: its key is in the journal
//	committed 0/34 1/33 2/35                          per partition, the next offset the group will read
//
// SIGINT or SIGTERM: it finishes and commits the poll in hand, then exits.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	topic := flag.String("topic", "", "topic of payments: key = payment id, value = amount")
	group := flag.String("group", "", "consumer group")
	instance := flag.String("instance", "", "group.instance.id (optional): a restarted consumer with the same id gets its partitions back at once")
	journal := flag.String("journal", "", "the account's journal file, created if missing")
	separate := flag.Bool("separate-store", false, "the wrong design, to show why: keep applied keys in JOURNAL.keys, written after the effect")
	crashAfter := flag.Int("crash-after", 0, "fault injection: SIGKILL this process right after the Nth effect of this run, before anything else is written")
	workMS := flag.Int("work-ms", 0, "milliseconds spent processing each record, standing in for real work")
	flag.Parse()
	if *topic == "" || *group == "" || *journal == "" {
		flag.Usage()
		os.Exit(2)
	}

	acct, err := openAccount(*journal, *separate)
	if err != nil {
		fatal("%v", err)
	}
	fmt.Printf("opened %s: %d payments applied, balance=%d\n", *journal, len(acct.applied), acct.balance)

	opts := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// At-least-once underneath: commit after applying, never
		// before (enable.auto.commit=false). Deduplication turns the
		// repeats of at-least-once into exactly-once effects; it cannot
		// bring back a record skipped by a commit made too early.
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

	effects, skipped := 0, 0
	for {
		fetches := cl.PollRecords(ctx, 100)
		if ctx.Err() != nil {
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			fmt.Fprintf(os.Stderr, "idempotent-by-key: fetch %s/%d: %v\n", t, p, err)
		})
		records := fetches.Records()
		if len(records) == 0 {
			continue
		}
		fmt.Printf("polled %d records\n", len(records))

		for _, r := range records {
			place := fmt.Sprintf("%d/%d", r.Partition, r.Offset)
			id := string(r.Key)
			if acct.applied[id] {
				skipped++
				fmt.Printf("skipped %s key=%s\n", place, id)
				continue
			}
			amount, err := strconv.ParseInt(string(r.Value), 10, 64)
			if err != nil || id == "" || strings.ContainsAny(id, " \n") {
				// A record that can never be applied is reported and
				// passed over, or it would stop the partition for ever.
				fmt.Fprintf(os.Stderr, "idempotent-by-key: %s: not a payment (key %q, value %q)\n", place, id, r.Value)
				continue
			}
			time.Sleep(time.Duration(*workMS) * time.Millisecond)
			err = acct.credit(place, id, amount, func() {
				effects++
				if effects == *crashAfter {
					fmt.Printf("crashing after the effect of %s key=%s\n", place, id)
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
					select {} // never returns
				}
			})
			if err != nil {
				fatal("%v", err)
			}
			fmt.Printf("applied %s key=%s amount=%d balance=%d\n", place, id, amount, acct.balance)
		}

		// The journal is on disk before the offsets move: a committed
		// record's effect can never be lost, even by a power loss.
		if err := acct.sync(); err != nil {
			fatal("%v", err)
		}
		commitCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := cl.CommitRecords(commitCtx, records...)
		cancel()
		if err != nil {
			// Read again by whoever owns the partitions now; the
			// journal makes the repeats harmless.
			fmt.Fprintf(os.Stderr, "idempotent-by-key: commit failed, these %d records will be read again: %v\n", len(records), err)
			continue
		}
		fmt.Printf("committed %s\n", nextOffsets(records))
	}
	fmt.Printf("stopped after %d payments applied and %d skipped, balance=%d\n", effects, skipped, acct.balance)
}

// account is the journal and what it adds up to.
type account struct {
	journal *os.File
	keys    *os.File // -separate-store only
	applied map[string]bool
	balance int64
}

// openAccount reads the journal (and, with separate, the keys file),
// keeping every line up to the first torn or corrupt one and cutting the
// file there.
func openAccount(path string, separate bool) (*account, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	// A file just created exists after a power loss only once its
	// directory is synced.
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	a := &account{journal: f, applied: map[string]bool{}}
	var good int64 // bytes of whole, valid lines
	rd := bufio.NewReader(f)
	for {
		line, err := rd.ReadString('\n')
		if err == io.EOF {
			if line != "" {
				fmt.Printf("journal: cut a torn last line (%d bytes): its record is read again\n", len(line))
			}
			break
		}
		if err != nil {
			return nil, err
		}
		id, amount, ok := parseLine(line)
		if !ok {
			fmt.Printf("journal: cut a corrupt line at byte %d: its record is read again\n", good)
			break
		}
		if !separate {
			a.applied[id] = true
		}
		a.balance += amount
		good += int64(len(line))
	}
	if err := f.Truncate(good); err != nil {
		return nil, err
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	if separate {
		a.keys, err = os.OpenFile(path+".keys", os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		if err := syncDir(filepath.Dir(path)); err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(a.keys)
		for sc.Scan() {
			a.applied[sc.Text()] = true
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// credit applies one payment: a single write of one journal line is both
// the effect and the record of the key. afterEffect runs right after that
// write (the test's crash point).
func (a *account) credit(place, id string, amount int64, afterEffect func()) error {
	body := fmt.Sprintf("%s %s %d", place, id, amount)
	line := fmt.Sprintf("%08x %s\n", crc32.ChecksumIEEE([]byte(body)), body)
	if _, err := a.journal.WriteString(line); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	afterEffect()
	if a.keys != nil {
		// The wrong design: a second write, which a crash can separate
		// from the first.
		if _, err := a.keys.WriteString(id + "\n"); err != nil {
			return fmt.Errorf("keys: %w", err)
		}
	}
	a.applied[id] = true
	a.balance += amount
	return nil
}

func (a *account) sync() error {
	err := a.journal.Sync()
	if a.keys != nil {
		err = errors.Join(err, a.keys.Sync())
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// parseLine checks a journal line's checksum and returns its payment.
func parseLine(line string) (id string, amount int64, ok bool) {
	sum, body, found := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
	if !found || sum != fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(body))) {
		return "", 0, false
	}
	f := strings.Fields(body)
	if len(f) != 3 {
		return "", 0, false
	}
	amount, err := strconv.ParseInt(f[2], 10, 64)
	return f[1], amount, err == nil
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
	fmt.Fprintf(os.Stderr, "idempotent-by-key: "+format+"\n", args...)
	os.Exit(1)
}
