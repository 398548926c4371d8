package history

import (
	"fmt"
	"strconv"
	"strings"
)

// String is the op on one line, the form reports and the checker's
// scenario scripts use:
//
//	p1 send t/0 a ok@4 txn=T1
//	p2 poll rc group=g t/0 4=a 5=b t/1 0=c
//	p2 commit group=g t/0@6 ok
//	p3 txn-commit txn=T1 info
//	p2 assign t/0 t/1
//	p0 fault broker-kill detail="back after 0.4s" ok
//
// Time is left out: a report prints it relative to the run's start.
func (o Op) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "p%d %s", o.Process, o.Kind)
	switch o.Kind {
	case Send:
		r := o.Record
		fmt.Fprintf(&b, " %s/%d %s %s", r.Topic, r.Partition, quote(r.Value), o.Outcome)
		if r.Offset != NoOffset {
			fmt.Fprintf(&b, "@%d", r.Offset)
		}
	case Poll:
		if o.Isolation == ReadCommitted {
			b.WriteString(" rc")
		}
		writeRecords(&b, o.Records)
	case Commit:
		for _, p := range o.Offsets {
			fmt.Fprintf(&b, " %s/%d@%d", p.Topic, p.Partition, p.Offset)
		}
	case Assign, Revoke:
		for _, tp := range o.Partitions {
			fmt.Fprintf(&b, " %s/%d", tp.Topic, tp.Partition)
		}
	case Fault:
		b.WriteString(" " + o.Fault)
		writeOption(&b, "detail", o.Detail)
	}
	writeOption(&b, "group", o.Group)
	writeOption(&b, "txn", o.Txn)
	if o.Kind != Send && o.Outcome != "" {
		b.WriteString(" " + string(o.Outcome))
	}
	if o.Error != "" {
		fmt.Fprintf(&b, " error=%q", o.Error)
	}
	return b.String()
}

// writeRecords names each partition once, before its records.
func writeRecords(b *strings.Builder, records []Record) {
	var last TopicPartition
	for i, r := range records {
		if i == 0 || r.TP() != last {
			last = r.TP()
			fmt.Fprintf(b, " %s/%d", r.Topic, r.Partition)
		}
		fmt.Fprintf(b, " %d=%s", r.Offset, quote(r.Value))
	}
}

func writeOption(b *strings.Builder, name, value string) {
	if value != "" {
		fmt.Fprintf(b, " %s=%s", name, quote(value))
	}
}

// quote leaves plain values as they are and quotes the rest, so that a
// value never reads as several tokens.
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\"=@/") && strconv.CanBackquote(s) {
		return s
	}
	return strconv.Quote(s)
}
