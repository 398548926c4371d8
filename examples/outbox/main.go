// Command outbox shows the transactional outbox: how an application that
// keeps its state in PostgreSQL publishes an event for every change it
// commits, no more and no fewer, without a transaction spanning the
// database and Kafka.
//
//	outbox place -db URL [-orders N] [-workers W]
//	outbox relay -db URL [-brokers B] [-topic T]
//
// place is the application: it places orders and moves each through
// placed, paid and shipped. Every change is one database transaction that
// updates the order's row and inserts an event row into the outbox table.
// Both are committed or neither: there is no change without its event and
// no event without its change, whatever crashes.
//
// relay publishes the outbox: it reads the unsent rows in id order,
// produces them to Kafka with the idempotent producer (acks=all, key = the
// order's id, so each order's events go to one partition, in order) and,
// once Kafka acknowledged them, marks them sent. A relay that dies between
// the acknowledgement and the mark publishes those rows again when it
// restarts: each event reaches Kafka at least once, and a consumer that
// must see it once deduplicates by the outbox row's id, carried in the
// record's "outbox-id" header. See README.md and schema.sql.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "place":
		place(os.Args[2:])
	case "relay":
		relay(os.Args[2:])
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: outbox place -db URL [flags]   (the application: orders and their events)")
	fmt.Fprintln(os.Stderr, "       outbox relay -db URL [flags]   (publishes the outbox to Kafka)")
	fmt.Fprintln(os.Stderr, "'outbox place -h' and 'outbox relay -h' list the flags")
	os.Exit(2)
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "outbox: "+format+"\n", args...)
	os.Exit(1)
}
