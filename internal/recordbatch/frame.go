package recordbatch

import (
	"errors"
	"fmt"
)

// Errors returned by Frame and Validate. All of them mean the bytes are not
// a batch Sluice will store: a producer gets CORRUPT_MESSAGE, and recovery
// treats the bytes as a torn tail.
var (
	ErrShort       = errors.New("recordbatch: fewer bytes than a batch header")
	ErrLength      = errors.New("recordbatch: batch length out of range")
	ErrTruncated   = errors.New("recordbatch: batch length runs past the available bytes")
	ErrMagic       = errors.New("recordbatch: magic is not 2")
	ErrCRC         = errors.New("recordbatch: CRC-32C mismatch")
	ErrRecordCount = errors.New("recordbatch: record count does not match the records")
	ErrRecords     = errors.New("recordbatch: malformed records")
)

// Frame checks the framing of the batch at the start of buf — length field,
// magic, CRC-32C — and returns a view of exactly that batch. It does not
// look inside the records; Validate does. Frame is what log recovery uses
// to find the last whole batch of a segment.
func Frame(buf []byte) (Batch, error) {
	b, err := FrameSkippingCRC(buf)
	if err != nil {
		return nil, err
	}
	if crc := b.ComputeCRC(); b.CRC() != crc {
		return nil, fmt.Errorf("%w: stored 0x%08x, computed 0x%08x", ErrCRC, b.CRC(), crc)
	}
	return b, nil
}

// FrameSkippingCRC is Frame without the CRC check, for a batch whose CRC
// its holder has checked (Frame, Validate) or computed (Build,
// SetLogAppendTime) since the bytes it covers last changed: the produce
// path, which would otherwise compute every batch's CRC twice.
func FrameSkippingCRC(buf []byte) (Batch, error) {
	if len(buf) < HeaderSize {
		return nil, ErrShort
	}
	n := Size(buf)
	if n < HeaderSize {
		return nil, fmt.Errorf("%w: %d", ErrLength, n)
	}
	if n > int64(len(buf)) {
		return nil, ErrTruncated
	}
	b := Batch(buf[:n])
	if b.Magic() != 2 {
		return nil, fmt.Errorf("%w: %d", ErrMagic, b.Magic())
	}
	return b, nil
}
