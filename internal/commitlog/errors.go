package commitlog

import "errors"

var (
	// ErrOffsetOutOfRange: the offset is below StartOffset or above NextOffset.
	ErrOffsetOutOfRange = errors.New("commitlog: offset out of range")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("commitlog: log closed")
	// ErrBadBatch: Append was given something other than one whole batch
	// that continues the log.
	ErrBadBatch = errors.New("commitlog: bad batch")
	// ErrNotBoundary: TruncateTo was given an offset inside a batch.
	ErrNotBoundary = errors.New("commitlog: offset is not a batch boundary")
	// ErrCorrupt: bytes the log had accepted no longer frame as batches.
	ErrCorrupt = errors.New("commitlog: corrupt segment")
)
