package history

import (
	"errors"
	"fmt"
)

// field is one of Op's kind-specific fields.
type field uint16

const (
	fOutcome field = 1 << iota
	fRecord
	fRecords
	fOffsets
	fPartitions
	fGroup
	fTxn
	fIsolation
	fFault
	fDetail
)

var fieldNames = []string{"outcome", "record", "records", "offsets", "partitions", "group", "txn", "isolation", "fault", "detail"}

// kindFields says which fields each kind may carry. A field of another
// kind on an op is refused rather than ignored: it means the writer and
// the checker disagree about what the op says.
var kindFields = map[Kind]field{
	Send:      fOutcome | fRecord | fTxn,
	Poll:      fRecords | fGroup | fTxn | fIsolation,
	Commit:    fOutcome | fOffsets | fGroup | fTxn,
	TxnBegin:  fTxn,
	TxnCommit: fOutcome | fTxn,
	TxnAbort:  fOutcome | fTxn,
	Assign:    fPartitions | fGroup,
	Revoke:    fPartitions | fGroup,
	Fault:     fOutcome | fFault | fDetail,
}

// Validate says what is wrong with an op, or nil.
func (o Op) Validate() error {
	allowed, ok := kindFields[o.Kind]
	if !ok {
		return fmt.Errorf("unknown kind %q", o.Kind)
	}
	if o.Time.IsZero() {
		return errors.New("no time")
	}
	if extra := o.setFields() &^ allowed; extra != 0 {
		return fmt.Errorf("%s with %s", o.Kind, fieldNames[lowestBit(extra)])
	}
	return o.validateKind()
}

func (o Op) validateKind() error {
	switch o.Kind {
	case Send:
		return o.validateSend()
	case Poll:
		return o.validatePoll()
	case Commit:
		return o.validateCommit()
	case TxnBegin:
		return require(o.Txn != "", "txn-begin without txn")
	case TxnCommit, TxnAbort:
		return errors.Join(require(o.Txn != "", "%s without txn", o.Kind), o.validateOutcome())
	case Assign, Revoke:
		return errors.Join(require(len(o.Partitions) > 0, "%s without partitions", o.Kind), validateTPs(o.Partitions))
	default: // Fault; its outcome (did the injection work?) is optional
		err := require(o.Fault != "", "fault without name")
		if o.Outcome != "" {
			err = errors.Join(err, o.validateOutcome())
		}
		return err
	}
}

func (o Op) validateSend() error {
	if o.Record == nil {
		return errors.New("send without record")
	}
	if err := o.validateOutcome(); err != nil {
		return err
	}
	r := *o.Record
	if err := validateTP(r.TP()); err != nil {
		return err
	}
	if o.Outcome == OK {
		return require(r.Offset >= NoOffset, "send offset %d", r.Offset)
	}
	// An unacknowledged send has no offset: any the client reported would
	// be a guess the checker must not trust.
	return require(r.Offset == NoOffset, "%s send with offset %d", o.Outcome, r.Offset)
}

func (o Op) validatePoll() error {
	if o.Isolation != ReadCommitted && o.Isolation != ReadUncommitted {
		return fmt.Errorf("poll isolation %q", o.Isolation)
	}
	for _, r := range o.Records {
		if err := validateTP(r.TP()); err != nil {
			return err
		}
		if r.Offset < 0 {
			return fmt.Errorf("polled offset %d", r.Offset)
		}
	}
	return nil
}

func (o Op) validateCommit() error {
	if err := require(o.Group != "", "commit without group"); err != nil {
		return err
	}
	if err := require(len(o.Offsets) > 0, "commit without offsets"); err != nil {
		return err
	}
	for _, p := range o.Offsets {
		if err := validateTP(TopicPartition{p.Topic, p.Partition}); err != nil {
			return err
		}
		if p.Offset < 0 {
			return fmt.Errorf("committed offset %d", p.Offset)
		}
	}
	return o.validateOutcome()
}

func (o Op) validateOutcome() error {
	switch o.Outcome {
	case OK, Fail, Info:
		return nil
	case "":
		return fmt.Errorf("%s without outcome", o.Kind)
	}
	return fmt.Errorf("unknown outcome %q", o.Outcome)
}

func validateTPs(tps []TopicPartition) error {
	for _, tp := range tps {
		if err := validateTP(tp); err != nil {
			return err
		}
	}
	return nil
}

func validateTP(tp TopicPartition) error {
	if tp.Topic == "" {
		return errors.New("record without topic")
	}
	return require(tp.Partition >= 0, "partition %d", tp.Partition)
}

// setFields is the set of kind-specific fields the op carries.
func (o Op) setFields() field {
	var f field
	set := func(b bool, bit field) {
		if b {
			f |= bit
		}
	}
	set(o.Outcome != "", fOutcome)
	set(o.Record != nil, fRecord)
	set(o.Records != nil, fRecords)
	set(o.Offsets != nil, fOffsets)
	set(o.Partitions != nil, fPartitions)
	set(o.Group != "", fGroup)
	set(o.Txn != "", fTxn)
	set(o.Isolation != "", fIsolation)
	set(o.Fault != "", fFault)
	set(o.Detail != "", fDetail)
	return f
}

func require(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

func lowestBit(f field) int {
	i := 0
	for f&1 == 0 {
		f >>= 1
		i++
	}
	return i
}
